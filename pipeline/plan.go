package pipeline

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/spec"
)

// Node is what the pipeline knows of this node, as data: gathered once by
// the kernel side (runtime.NodeFacts) and never read from the host here.
type Node struct {
	// Root is the state root: the places the plan names are under it.
	Root string
	// Spec are the translation's node options (seccomp, capabilities,
	// memory, node name, rro support, pids limit). PodIP is left empty:
	// it is known once the pod is on the network (ContainerSpec).
	Spec spec.Options
	// SELinuxEnabled and AppArmorEnabled: the LSMs active on the node.
	SELinuxEnabled, AppArmorEnabled bool
	// Sysctls is the kubelet's sysctl allowlist; nil allows none checked.
	Sysctls *spec.SysctlAllowlist
	// HostDevices are the node's devices, given to privileged containers.
	HostDevices []specs.LinuxDevice
	// UserNSBase is the first host ID pods with hostUsers: false may get
	// (0: DefaultUserNSBase).
	UserNSBase uint32
	// UserNS is the range of host IDs the node allocated to the pod being
	// planned (hostUsers: false), recorded under the state root; nil (a
	// preview, such as podsec spec) plans the pod's preferred range.
	UserNS *spec.IDRange
}

// Plan is everything decided about one pod before the kernel side runs
// it. The runtime executes it and reads no securityContext field again.
type Plan struct {
	// Pod is the admitted pod, for names, images, probes and logs.
	Pod *corev1.Pod
	// Admission is what admission decided and changed.
	Admission Admission
	// Sandbox is the pod sandbox's namespaces and hostname.
	Sandbox Sandbox
	// Volumes are the pod's volumes with their sources and ownership.
	Volumes []Volume
	// HostPorts are the node ports forwarded to the pod.
	HostPorts []HostPort
	// UserNS is the pod's range of host IDs (hostUsers: false); nil keeps
	// the node's user namespace.
	UserNS *spec.IDRange
	// Resources are the pod cgroup's limits.
	Resources spec.PodResources
	// Containers are the init containers, then the app containers.
	Containers []Container

	node *Node
}

// Admission is what admission made of the pod.
type Admission struct {
	// Policy names the PodSecurityPolicy that admitted the pod.
	Policy string `json:"policy,omitempty"`
	// Warnings are the Pod Security Standards' warn-mode messages.
	Warnings []string `json:"warnings,omitempty"`
	// Patch is the JSON patch from the pod as given to the admitted pod:
	// the policy's defaults and its annotation.
	Patch json.RawMessage `json:"patch,omitempty"`
}

// Sandbox is which namespaces the pod sandbox makes; those it does not
// make are the node's.
type Sandbox struct {
	Net, UTS, IPC, PID bool
	// Hostname is the sandbox's UTS name (empty without a UTS namespace).
	Hostname string
	// Sysctls are the pod's sysctls, set in the sandbox's namespaces (net,
	// ipc, uts). They reach the kernel through each container's
	// linux.sysctl, which holds the same keys and values: libcontainer sets
	// them as the container's init, before it drops privilege, since the
	// sandbox process has none to write /proc/sys with.
	Sysctls map[string]string `json:"sysctls,omitempty"`
}

// Has reports whether the sandbox makes the namespace of kind (net, ipc,
// uts, pid).
func (s Sandbox) Has(kind string) bool {
	switch kind {
	case "net":
		return s.Net
	case "uts":
		return s.UTS
	case "ipc":
		return s.IPC
	case "pid":
		return s.PID
	}
	return false
}

// Volume is one volume of the pod as the runtime provides it.
type Volume struct {
	Name string
	// Source is the directory bound into containers: the node's path of a
	// hostPath volume, the pod's own directory otherwise.
	Source string
	// HostPath marks the node's own directory, never changed.
	HostPath bool
	// FSGroup, when set, is the group the volume is given to before any
	// container starts (the kubelet's SetVolumeOwnership), read-only modes
	// for ReadOnly (configMap, secret, downwardAPI) volumes.
	FSGroup  *int64
	ReadOnly bool
	// OnRootMismatch skips the walk when the volume's root already matches.
	OnRootMismatch bool
	// Files are the contents of a configMap, secret or downwardAPI volume,
	// modes and fsGroup's read bits included: the runtime writes them as
	// they are.
	Files []File
}

// HostPort is a node port forwarded to a container port.
type HostPort struct {
	HostPort, ContainerPort int32
	Protocol, HostIP        string
}

// Container is one container of the plan.
type Container struct {
	Name string
	Init bool
	// Paths are the places the runtime prepares for the container.
	Paths spec.Paths
}

// Build makes the plan of an admitted pod on node: every decision the
// kernel side needs, from the pod's fields, once. objs are the ConfigMaps
// and Secrets the pod's volumes read; a missing one the pod does not mark
// optional is Build's error, before anything of the pod is made.
func Build(pod *corev1.Pod, node *Node, adm Admission, objs Objects) (*Plan, error) {
	ps := &pod.Spec
	p := &Plan{Pod: pod, Admission: adm, node: node,
		Resources: spec.PodResourceLimits(pod, node.Spec.PidsLimit)}
	p.Sandbox = Sandbox{
		Net: !ps.HostNetwork, UTS: !ps.HostNetwork, IPC: !ps.HostIPC,
		PID: !ps.HostPID && ps.ShareProcessNamespace != nil && *ps.ShareProcessNamespace,
	}
	if p.Sandbox.UTS {
		p.Sandbox.Hostname = spec.PodHostname(pod)
	}
	if sc := ps.SecurityContext; sc != nil && len(sc.Sysctls) > 0 {
		p.Sandbox.Sysctls = make(map[string]string, len(sc.Sysctls))
		for _, kv := range sc.Sysctls {
			p.Sandbox.Sysctls[kv.Name] = kv.Value
		}
	}
	if NeedsUserNS(pod) {
		r := UserNSRange(pod.Namespace, pod.Name, node.UserNSBase)
		if node.UserNS != nil {
			r = *node.UserNS
		}
		p.UserNS = &r
	}
	places := Places{Root: node.Root}
	sc := ps.SecurityContext
	for i, v := range ps.Volumes {
		vol := Volume{Name: v.Name, Source: places.VolumeDir(pod.Namespace, pod.Name, v.Name)}
		if v.HostPath != nil {
			vol.Source, vol.HostPath = filepath.Clean(v.HostPath.Path), true
		}
		if sc != nil && sc.FSGroup != nil && !vol.HostPath {
			g := *sc.FSGroup
			vol.FSGroup = &g
			vol.ReadOnly = v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil
			vol.OnRootMismatch = sc.FSGroupChangePolicy != nil && *sc.FSGroupChangePolicy == corev1.FSGroupChangeOnRootMismatch
		}
		if v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil {
			files, err := projectedFiles(pod, &v, objs, vol.FSGroup)
			if err != nil {
				return nil, fmt.Errorf("spec.volumes[%d]: volume %q: %w", i, v.Name, err)
			}
			vol.Files = files
		}
		p.Volumes = append(p.Volumes, vol)
	}
	if !ps.HostNetwork {
		for _, c := range ps.Containers {
			for _, port := range c.Ports {
				if port.HostPort != 0 {
					p.HostPorts = append(p.HostPorts, HostPort{HostPort: port.HostPort, ContainerPort: port.ContainerPort,
						Protocol: string(port.Protocol), HostIP: port.HostIP})
				}
			}
		}
	}
	add := func(cs []corev1.Container, init bool) {
		for i := range cs {
			c := &cs[i]
			paths := places.paths(pod, p.Sandbox, p.Volumes, p.UserNS, c)
			if spec.Privileged(c) {
				paths.HostDevices = node.HostDevices
			}
			p.Containers = append(p.Containers, Container{Name: c.Name, Init: init, Paths: paths})
		}
	}
	add(ps.InitContainers, true)
	add(ps.Containers, false)
	return p, nil
}

// Container returns the plan's container of that name.
func (p *Plan) Container(name string) (*Container, error) {
	for i := range p.Containers {
		if p.Containers[i].Name == name {
			return &p.Containers[i], nil
		}
	}
	return nil, fmt.Errorf("container %q is not in pod %q", name, p.Pod.Name)
}

// ContainerSpec is the OCI spec of a container of the plan with its image
// (nil: the pod's own fields only), the image's user database and the
// pod's IP (empty without a pod network): the spec the runtime hands to
// libcontainer and podsec spec prints.
func (p *Plan) ContainerSpec(name string, img *spec.ImageConfig, users *spec.UserDB, podIP string) (*specs.Spec, error) {
	c, err := p.Container(name)
	if err != nil {
		return nil, err
	}
	in := spec.Input{Pod: p.Pod, ContainerName: name, Image: img, Users: users, Options: p.node.Spec, Paths: c.Paths}
	in.Options.PodIP = podIP
	return spec.Translate(in)
}

// EncodeSpec is the one encoding of a spec: podsec spec prints it and the
// runtime writes it beside what it hands to libcontainer.
func EncodeSpec(s *specs.Spec) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding spec: %w", err)
	}
	return append(b, '\n'), nil
}
