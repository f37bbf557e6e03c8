package runtime

import (
	"github.com/podsec/podsec/pipeline"
)

// DefaultRoot is where podsec keeps its state unless --root says otherwise.
const DefaultRoot = pipeline.DefaultRoot

// Layout names the places of podsec's state under a root directory. It
// only computes paths (pipeline.Places, which the plan names); nothing is
// created.
type Layout struct {
	Root string
}

func (l Layout) places() pipeline.Places { return pipeline.Places{Root: l.Root} }

// PodDir is the directory of one pod.
func (l Layout) PodDir(namespace, name string) string { return l.places().PodDir(namespace, name) }

// NamespacePath is where the pod sandbox's namespace of a kind (net, ipc,
// uts, pid) is bind-mounted so containers can join it.
func (l Layout) NamespacePath(namespace, name, kind string) string {
	return l.places().NamespacePath(namespace, name, kind)
}

// VolumeDir is the host directory of one of the pod's emptyDir volumes.
func (l Layout) VolumeDir(namespace, name, volume string) string {
	return l.places().VolumeDir(namespace, name, volume)
}

// ContainerDir is the directory of one container of a pod.
func (l Layout) ContainerDir(namespace, name, container string) string {
	return l.places().ContainerDir(namespace, name, container)
}

// Rootfs is a container's root filesystem (its overlay's mount point).
func (l Layout) Rootfs(namespace, name, container string) string {
	return l.places().Rootfs(namespace, name, container)
}

// PodFile is one of the pod's generated files: hosts, hostname, resolv.conf.
func (l Layout) PodFile(namespace, name, file string) string {
	return l.places().PodFile(namespace, name, file)
}

// Shm is the pod's /dev/shm.
func (l Layout) Shm(namespace, name string) string { return l.places().Shm(namespace, name) }

// TerminationLog is the file behind a container's terminationMessagePath.
func (l Layout) TerminationLog(namespace, name, container string) string {
	return l.places().TerminationLog(namespace, name, container)
}

// CgroupsPath is a container's cgroup below the cgroup root.
func (l Layout) CgroupsPath(namespace, name, container string) string {
	return l.places().CgroupsPath(namespace, name, container)
}
