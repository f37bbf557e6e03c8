package runtime

import (
	"hash/fnv"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/spec"
)

// DefaultRoot is where podsec keeps its state unless --root says otherwise.
const DefaultRoot = "/var/lib/podsec"

// Layout names the places of podsec's state under a root directory. It
// only computes paths; nothing is created.
type Layout struct {
	Root string
}

// PodDir is the directory of one pod.
func (l Layout) PodDir(namespace, name string) string {
	return filepath.Join(l.Root, "pods", namespace, name)
}

// NamespacePath is where the pod sandbox's namespace of a kind (net, ipc,
// uts, pid) is bind-mounted so containers can join it.
func (l Layout) NamespacePath(namespace, name, kind string) string {
	return filepath.Join(l.PodDir(namespace, name), "ns", kind)
}

// VolumeDir is the host directory of one of the pod's emptyDir volumes.
func (l Layout) VolumeDir(namespace, name, volume string) string {
	return filepath.Join(l.PodDir(namespace, name), "volumes", volume)
}

// ContainerDir is the directory of one container of a pod.
func (l Layout) ContainerDir(namespace, name, container string) string {
	return filepath.Join(l.PodDir(namespace, name), "containers", container)
}

// Rootfs is a container's root filesystem (its overlay's mount point).
func (l Layout) Rootfs(namespace, name, container string) string {
	return filepath.Join(l.ContainerDir(namespace, name, container), "rootfs")
}

// PodFile is one of the pod's generated files: hosts, hostname, resolv.conf.
func (l Layout) PodFile(namespace, name, file string) string {
	return filepath.Join(l.PodDir(namespace, name), "etc", file)
}

// Shm is the pod's /dev/shm.
func (l Layout) Shm(namespace, name string) string {
	return filepath.Join(l.PodDir(namespace, name), "shm")
}

// TerminationLog is the file behind a container's terminationMessagePath.
func (l Layout) TerminationLog(namespace, name, container string) string {
	return filepath.Join(l.ContainerDir(namespace, name, container), "termination-log")
}

// CgroupsPath is a container's cgroup below the cgroup root.
func (l Layout) CgroupsPath(namespace, name, container string) string {
	return filepath.Join("/podsec", namespace+"_"+name, container)
}

// Paths gives a container the places the runtime prepares for it: its
// rootfs, the pod sandbox's namespaces, the pod's files and volumes. A
// subPath's place is shown joined; the runtime resolves it inside the
// volume without following symlinks before it runs the container.
func (l Layout) Paths(pod *corev1.Pod, container string) spec.Paths {
	ns, pn := pod.Namespace, pod.Name
	p := spec.Paths{
		Rootfs:         l.Rootfs(ns, pn, container),
		NetNS:          l.NamespacePath(ns, pn, "net"),
		IPCNS:          l.NamespacePath(ns, pn, "ipc"),
		UTSNS:          l.NamespacePath(ns, pn, "uts"),
		EtcHosts:       l.PodFile(ns, pn, "hosts"),
		EtcHostname:    l.PodFile(ns, pn, "hostname"),
		ResolvConf:     l.PodFile(ns, pn, "resolv.conf"),
		Shm:            l.Shm(ns, pn),
		TerminationLog: l.TerminationLog(ns, pn, container),
		CgroupsPath:    l.CgroupsPath(ns, pn, container),
		Volumes:        map[string]string{},
		SubPaths:       map[string]string{},
	}
	if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		p.PIDNS = l.NamespacePath(ns, pn, "pid")
	}
	if pod.Spec.HostUsers != nil && !*pod.Spec.HostUsers {
		r := UserNSRange(ns, pn)
		p.UserNS = &r
	}
	for _, v := range pod.Spec.Volumes {
		src := l.VolumeDir(ns, pn, v.Name)
		if v.HostPath != nil {
			src = filepath.Clean(v.HostPath.Path)
		}
		p.Volumes[v.Name] = src
	}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, m := range c.VolumeMounts {
			if m.SubPath != "" {
				p.SubPaths[spec.SubPathKey(m.Name, m.SubPath)] = filepath.Join(p.Volumes[m.Name], m.SubPath)
			}
		}
	}
	return p
}

// userNSBase and userNSSize follow the kubelet: each pod with hostUsers:
// false gets 65536 IDs, in ranges above the node's own first 65536.
const (
	userNSSize  = 65536
	userNSSlots = 1 << 15
)

// UserNSRange is the pod's preferred range of host IDs: a slot chosen from
// the pod's namespace and name. The runtime records the ranges in use and
// moves a pod to the next free slot on a collision.
func UserNSRange(namespace, name string) spec.IDRange {
	h := fnv.New32a()
	h.Write([]byte(namespace + "/" + name))
	slot := 1 + h.Sum32()%(userNSSlots-1)
	return spec.IDRange{HostID: slot * userNSSize, Size: userNSSize}
}
