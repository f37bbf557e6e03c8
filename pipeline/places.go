package pipeline

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/spec"
)

// DefaultRoot is where podsec keeps its state unless --root says otherwise.
const DefaultRoot = "/var/lib/podsec"

// Places names where the runtime keeps a pod's state under a root
// directory. It only computes paths; the plan names them and the runtime
// makes them, so the spec podsec spec prints names what podsec run uses.
type Places struct {
	Root string
}

// PodDir is the directory of one pod.
func (l Places) PodDir(namespace, name string) string {
	return filepath.Join(l.Root, "pods", namespace, name)
}

// NamespacePath is where the pod sandbox's namespace of a kind (net, ipc,
// uts, pid, user) is bind-mounted so containers can join it.
func (l Places) NamespacePath(namespace, name, kind string) string {
	return filepath.Join(l.PodDir(namespace, name), "ns", kind)
}

// VolumeDir is the host directory of one of the pod's own volumes.
func (l Places) VolumeDir(namespace, name, volume string) string {
	return filepath.Join(l.PodDir(namespace, name), "volumes", volume)
}

// ContainerDir is the directory of one container of a pod.
func (l Places) ContainerDir(namespace, name, container string) string {
	return filepath.Join(l.PodDir(namespace, name), "containers", container)
}

// Rootfs is a container's root filesystem (its overlay's mount point).
func (l Places) Rootfs(namespace, name, container string) string {
	return filepath.Join(l.ContainerDir(namespace, name, container), "rootfs")
}

// SubPath is where the runtime binds the subPath of a container's
// volumeMounts[index], resolved inside its volume.
func (l Places) SubPath(namespace, name, container string, index int) string {
	return filepath.Join(l.ContainerDir(namespace, name, container), "subpaths", strconv.Itoa(index))
}

// PodFile is one of the pod's generated files: hosts, hostname, resolv.conf.
func (l Places) PodFile(namespace, name, file string) string {
	return filepath.Join(l.PodDir(namespace, name), "etc", file)
}

// Shm is the pod's /dev/shm.
func (l Places) Shm(namespace, name string) string {
	return filepath.Join(l.PodDir(namespace, name), "shm")
}

// TerminationLog is the file behind a container's terminationMessagePath.
func (l Places) TerminationLog(namespace, name, container string) string {
	return filepath.Join(l.ContainerDir(namespace, name, container), "termination-log")
}

// CgroupsPath is a container's cgroup below the cgroup root.
func (l Places) CgroupsPath(namespace, name, container string) string {
	return filepath.Join(CgroupParent(l.Root), namespace+"_"+name, container)
}

// CgroupParent is the cgroup (below the cgroup root) that holds the pods
// of one state root: /podsec for the default root, and /podsec-<hash of
// the root> for any other, so that two nodes on one machine (a test
// suite's, say) never share a pod's cgroup.
func CgroupParent(root string) string {
	root = filepath.Clean(root)
	if root == "." || root == DefaultRoot {
		return "/podsec"
	}
	h := fnv.New32a()
	h.Write([]byte(root))
	return "/podsec-" + strconv.FormatUint(uint64(h.Sum32()), 16)
}

// SpecFile is where the runtime keeps the encoded spec (EncodeSpec) it
// handed to libcontainer for a container, for the pod's life.
func (l Places) SpecFile(namespace, name, container string) string {
	return filepath.Join(l.PodDir(namespace, name), "specs", container+".json")
}

// paths gives a container the places the runtime prepares for it, as the
// sandbox and volumes of the plan decide them.
func (l Places) paths(pod *corev1.Pod, sb Sandbox, vols []Volume, userNS *spec.IDRange, c *corev1.Container) spec.Paths {
	ns, pn := pod.Namespace, pod.Name
	p := spec.Paths{
		Rootfs:         l.Rootfs(ns, pn, c.Name),
		EtcHosts:       l.PodFile(ns, pn, "hosts"),
		EtcHostname:    l.PodFile(ns, pn, "hostname"),
		ResolvConf:     l.PodFile(ns, pn, "resolv.conf"),
		TerminationLog: l.TerminationLog(ns, pn, c.Name),
		CgroupsPath:    l.CgroupsPath(ns, pn, c.Name),
		Volumes:        map[string]string{},
		SubPaths:       map[string]string{},
		UserNS:         userNS,
	}
	if userNS != nil {
		p.UserNSPath = l.NamespacePath(ns, pn, "user")
	}
	for kind, at := range map[string]*string{"net": &p.NetNS, "ipc": &p.IPCNS, "uts": &p.UTSNS, "pid": &p.PIDNS} {
		if sb.Has(kind) {
			*at = l.NamespacePath(ns, pn, kind)
		}
	}
	if sb.IPC {
		p.Shm = l.Shm(ns, pn)
	}
	for _, v := range vols {
		p.Volumes[v.Name] = v.Source
	}
	for i, m := range c.VolumeMounts {
		if m.SubPath != "" {
			p.SubPaths[spec.SubPathKey(m.Name, m.SubPath)] = l.SubPath(ns, pn, c.Name, i)
		}
	}
	return p
}

// UserNSSize is the number of IDs of each hostUsers: false pod, as the
// kubelet gives: the container's IDs 0-65535.
const UserNSSize = 65536

// userNSSlots bounds the ranges: host IDs stay below 2^31, where every
// filesystem and tool takes them for valid IDs.
const userNSSlots = 1 << 15

// DefaultUserNSBase is the first host ID given to pods, as in the kubelet:
// the node keeps IDs 0-65535 for itself.
const DefaultUserNSBase = UserNSSize

// UserNSSlots are the slots (range index, host ID / UserNSSize) pods may
// get above base: [first, end). A base of 0 is DefaultUserNSBase.
func UserNSSlots(base uint32) (first, end uint32) {
	if base == 0 {
		base = DefaultUserNSBase
	}
	return base / UserNSSize, userNSSlots
}

// CheckUserNSBase refuses a base that is not a multiple of UserNSSize
// above the node's own IDs, or that leaves no range.
func CheckUserNSBase(base uint32) error {
	if base == 0 {
		return nil
	}
	if base%UserNSSize != 0 || base < UserNSSize {
		return fmt.Errorf("user namespace base %d: must be a multiple of %d, at least %d (the node keeps IDs 0-%d)", base, UserNSSize, UserNSSize, UserNSSize-1)
	}
	if first, end := UserNSSlots(base); first >= end {
		return fmt.Errorf("user namespace base %d: leaves no range of %d IDs below %d", base, UserNSSize, uint64(end)*UserNSSize)
	}
	return nil
}

// NeedsUserNS reports whether the pod runs in a user namespace of its own
// (spec.hostUsers: false), for which the node allocates a range before
// the pod is planned.
func NeedsUserNS(pod *corev1.Pod) bool {
	h := pod.Spec.HostUsers
	return h != nil && !*h
}

// UserNSRange is the pod's preferred range of host IDs above base: a slot
// chosen from the pod's namespace and name. The runtime allocates it when
// no running pod holds it, and the next free slot otherwise.
func UserNSRange(namespace, name string, base uint32) spec.IDRange {
	first, end := UserNSSlots(base)
	if first >= end {
		first = end - 1
	}
	h := fnv.New32a()
	h.Write([]byte(namespace + "/" + name))
	slot := first + h.Sum32()%(end-first)
	return spec.IDRange{HostID: slot * UserNSSize, Size: UserNSSize}
}
