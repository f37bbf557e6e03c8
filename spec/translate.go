package spec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ImageConfig is the part of an OCI image config that shapes a container's
// process (github.com/opencontainers/image-spec, config.config).
type ImageConfig struct {
	User       string   `json:"User,omitempty"`
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	Env        []string `json:"Env,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

// Paths are the host paths the runtime prepared for a container. An empty
// namespace path means "a new namespace of that kind".
type Paths struct {
	// Rootfs is the container's root filesystem (its overlay mount point).
	Rootfs string
	// NetNS, IPCNS, UTSNS and PIDNS are the pod sandbox's namespaces for
	// the container to join (PIDNS only with shareProcessNamespace).
	NetNS, IPCNS, UTSNS, PIDNS string
	// Volumes maps a pod volume's name to its directory on the host.
	Volumes map[string]string
	// SubPaths maps SubPathKey(volume, subPath) to a host path the runtime
	// has resolved inside the volume without following symlinks out of it.
	// A subPath missing here is an error: joining it here would trust a
	// symlink the container may have planted.
	SubPaths map[string]string
	// EtcHosts, EtcHostname and ResolvConf are the pod's files; empty ones
	// are not mounted.
	EtcHosts, EtcHostname, ResolvConf string
	// Shm is the pod's /dev/shm to bind; empty gives the container its own.
	Shm string
	// TerminationLog is the host file bound at terminationMessagePath.
	TerminationLog string
	// CgroupsPath is the container's cgroup, relative to the cgroup root.
	CgroupsPath string
	// HostDevices are the node's devices, given to privileged containers.
	HostDevices []specs.LinuxDevice
	// UserNS is the pod's range of host IDs for spec.hostUsers: false: the
	// container's IDs 0..Size-1 map to HostID..HostID+Size-1. The runtime
	// allocates it, one range per pod, as the kubelet does.
	UserNS *IDRange
	// UserNSPath is the pod sandbox's user namespace, which has that
	// mapping, for the container to join.
	UserNSPath string
}

// IDRange is a range of host user and group IDs.
type IDRange struct {
	HostID, Size uint32
}

// SubPathKey is the key of Paths.SubPaths for a volume's subPath.
func SubPathKey(volume, subPath string) string { return volume + "\x00" + subPath }

// Options are the node's choices that are not in the pod.
type Options struct {
	// SeccompDefault is the profile of a container whose pod names none:
	// RuntimeDefault (podsec's default, like kubelet --seccomp-default) or
	// Unconfined.
	SeccompDefault corev1.SeccompProfileType
	// Seccomp builds profiles; nil gives only RuntimeDefault and Unconfined.
	Seccomp SeccompSource
	// AllCapabilities are the capabilities the kernel knows; nil means
	// every capability in this package's table.
	AllCapabilities []string
	// NodeMemoryBytes is the node's memory, for the oom_score_adj of
	// Burstable pods; 0 gives them 1000 minus nothing (as if unbounded).
	NodeMemoryBytes int64
	// PodIP and HostIP fill status.podIP and status.hostIP references.
	PodIP, HostIP string
	// NodeName fills spec.nodeName references when the pod has none.
	NodeName string
	// RecursiveReadOnly makes readOnly volume mounts read-only all the way
	// down ("rro"), which needs mount_setattr (Linux 5.12).
	RecursiveReadOnly bool
	// PidsLimit caps the processes of each container (the pids cgroup);
	// 0 sets no limit.
	PidsLimit int64
}

// SeccompSource builds the seccomp filters of the node for a container
// whose bounding capabilities are caps.
type SeccompSource interface {
	RuntimeDefault(caps []string) *specs.LinuxSeccomp
	Localhost(profile string, caps []string) (*specs.LinuxSeccomp, error)
}

// Input is everything Translate needs for one container.
type Input struct {
	Pod *corev1.Pod
	// ContainerName names an init or app container of the pod.
	ContainerName string
	// Image is the image's config; nil when the image is not known (then
	// only the pod's own fields are used).
	Image *ImageConfig
	// Users is the image's user database; nil when not known.
	Users   *UserDB
	Paths   Paths
	Options Options
}

// Container is the context every Opt sees: the input, the container, and
// its field path in the pod.
type Container struct {
	*Input
	C    *corev1.Container
	Path *field.Path
	Init bool
}

// Opt is one step of the translation of a container into an OCI spec.
type Opt func(c *Container, s *specs.Spec) error

// Compose makes one Opt of many, applied in order.
func Compose(opts ...Opt) Opt {
	return func(c *Container, s *specs.Spec) error {
		for _, o := range opts {
			if err := o(c, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// translation is the fixed order of options. Capabilities come before
// security because the seccomp profile depends on them; user before
// process because $(VAR) expansion needs no identity but the image user
// check needs the resolved uid.
var translation = Compose(
	withBase,
	withNamespaces,
	withHostname,
	withProcess,
	withUser,
	withUserNSIDs,
	withCapabilities,
	withSecurity,
	withMounts,
	withResources,
	withAnnotations,
)

// Translate builds the OCI runtime spec of one container of a pod.
func Translate(in Input) (*specs.Spec, error) {
	c, err := Find(&in)
	if err != nil {
		return nil, err
	}
	s := &specs.Spec{}
	if err := translation(c, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Find locates the named container of the input's pod.
func Find(in *Input) (*Container, error) {
	spec := field.NewPath("spec")
	for i := range in.Pod.Spec.InitContainers {
		if in.Pod.Spec.InitContainers[i].Name == in.ContainerName {
			return &Container{Input: in, C: &in.Pod.Spec.InitContainers[i], Path: spec.Child("initContainers").Index(i), Init: true}, nil
		}
	}
	for i := range in.Pod.Spec.Containers {
		if in.Pod.Spec.Containers[i].Name == in.ContainerName {
			return &Container{Input: in, C: &in.Pod.Spec.Containers[i], Path: spec.Child("containers").Index(i)}, nil
		}
	}
	return nil, fmt.Errorf("%w: %q in pod %q", ErrNoContainer, in.ContainerName, in.Pod.Name)
}

// ContainerNames lists the pod's init containers, then its app containers,
// in the order they run.
func ContainerNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return names
}

// sc returns the container's security context, never nil.
func (c *Container) sc() *corev1.SecurityContext {
	if c.C.SecurityContext == nil {
		return &corev1.SecurityContext{}
	}
	return c.C.SecurityContext
}

// psc returns the pod's security context, never nil.
func (c *Container) psc() *corev1.PodSecurityContext {
	if c.Pod.Spec.SecurityContext == nil {
		return &corev1.PodSecurityContext{}
	}
	return c.Pod.Spec.SecurityContext
}

// Privileged reports whether the container runs privileged.
func (c *Container) Privileged() bool { return Privileged(c.C) }

// Privileged reports whether c runs privileged: the one reading of the
// field, for the translation and the plan's host devices.
func Privileged(c *corev1.Container) bool {
	return c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
}

func withBase(c *Container, s *specs.Spec) error {
	s.Version = specs.Version
	s.Root = &specs.Root{Path: c.Paths.Rootfs}
	if s.Root.Path == "" {
		s.Root.Path = "rootfs"
	}
	s.Process = &specs.Process{}
	s.Linux = &specs.Linux{
		CgroupsPath: c.Paths.CgroupsPath,
		Resources: &specs.LinuxResources{
			Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		},
	}
	return nil
}

func withAnnotations(c *Container, s *specs.Spec) error {
	kind := "container"
	if c.Init {
		kind = "init-container"
	}
	s.Annotations = map[string]string{
		"io.kubernetes.cri.container-type":    "container",
		"io.kubernetes.cri.container-name":    c.C.Name,
		"io.kubernetes.cri.image-name":        c.C.Image,
		"io.kubernetes.cri.sandbox-name":      c.Pod.Name,
		"io.kubernetes.cri.sandbox-namespace": c.Pod.Namespace,
		"io.kubernetes.cri.sandbox-uid":       string(c.Pod.UID),
		"io.kubernetes.pod.name":              c.Pod.Name,
		"io.kubernetes.pod.namespace":         c.Pod.Namespace,
		"io.kubernetes.container.name":        c.C.Name,
		"io.podsec.container-kind":            kind,
	}
	return nil
}
