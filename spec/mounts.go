package spec

import (
	"fmt"
	"path"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// withMounts sets the container's filesystem mounts: the kernel's
// filesystems, the pod's /etc files, the termination log, and each volume
// mount, sorted by destination depth so a parent is mounted before its
// children.
func withMounts(c *Container, s *specs.Spec) error {
	priv := c.Privileged()
	ro := func(opts ...string) []string {
		if !priv {
			opts = append(opts, "ro")
		}
		return opts
	}
	mounts := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: ro("nosuid", "noexec", "nodev")},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: ro("nosuid", "noexec", "nodev", "relatime")},
		c.shmMount(),
	}
	mounted := map[string]bool{}
	for _, vm := range c.C.VolumeMounts {
		mounted[vm.MountPath] = true
	}
	rootRO := s.Root.Readonly
	podFiles := len(mounts)
	for _, f := range []struct{ dst, src string }{
		{"/etc/hosts", c.Paths.EtcHosts},
		{"/etc/hostname", c.Paths.EtcHostname},
		{"/etc/resolv.conf", c.Paths.ResolvConf},
		{c.C.TerminationMessagePath, c.Paths.TerminationLog},
	} {
		// A volume mounted there wins, as in the kubelet.
		if f.src == "" || f.dst == "" || mounted[f.dst] {
			continue
		}
		mounts = append(mounts, bindMount(f.dst, f.src, rootRO && f.dst != c.C.TerminationMessagePath, "rprivate"))
	}
	podFilesEnd := len(mounts)
	for i, vm := range c.C.VolumeMounts {
		src, err := c.volumeSource(vm)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Path.Child("volumeMounts").Index(i).Child("name"), err)
		}
		ro := vm.ReadOnly || c.alwaysReadOnly(vm.Name)
		m := bindMount(vm.MountPath, src, ro, propagation(vm.MountPropagation))
		if ro && c.Options.RecursiveReadOnly {
			m.Options = append(m.Options, "rro")
		}
		mounts = append(mounts, m)
	}
	if c.userNS() {
		// The pod's files and volumes keep their owners on disk and show
		// them inside: container ID n is node ID n on the volume, as with
		// the kubelet's idmapped volumes, so a node directory owned by
		// root is root's in the pod, and what the pod writes there is
		// owned by its container IDs, never by its range. The pod's /etc
		// files and termination log are the exception: the runtime gives
		// them to the pod's root (its range) on the node, since idmapped
		// they would be the node root's files, which the pod's root could
		// make a setuid program of.
		for i := range mounts {
			if mounts[i].Type == "bind" && (i < podFiles || i >= podFilesEnd) {
				mounts[i].Options = append(mounts[i].Options, "idmap")
			}
		}
	}
	sort.SliceStable(mounts, func(i, j int) bool {
		return depth(mounts[i].Destination) < depth(mounts[j].Destination)
	})
	s.Mounts = mounts
	return nil
}

// shmMount is the pod's /dev/shm, the node's with hostIPC, or a tmpfs of
// the container's own when the runtime gave no pod shm.
func (c *Container) shmMount() specs.Mount {
	src := c.Paths.Shm
	if c.Pod.Spec.HostIPC {
		src = "/dev/shm"
	}
	if src != "" {
		m := bindMount("/dev/shm", src, false, "rprivate")
		m.Options = append(m.Options, "nosuid", "nodev", "noexec")
		return m
	}
	return specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}
}

// alwaysReadOnly reports whether a volume is one the kubelet mounts
// read-only whatever the mount says: configMap, secret, downwardAPI.
func (c *Container) alwaysReadOnly(name string) bool {
	for _, v := range c.Pod.Spec.Volumes {
		if v.Name == name {
			return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil
		}
	}
	return false
}

// volumeSource finds the host path behind a volume mount.
func (c *Container) volumeSource(vm corev1.VolumeMount) (string, error) {
	var vol *corev1.Volume
	for i := range c.Pod.Spec.Volumes {
		if c.Pod.Spec.Volumes[i].Name == vm.Name {
			vol = &c.Pod.Spec.Volumes[i]
		}
	}
	if vol == nil {
		return "", fmt.Errorf("volume %q is not defined", vm.Name)
	}
	if vm.SubPath != "" {
		src, ok := c.Paths.SubPaths[SubPathKey(vm.Name, vm.SubPath)]
		if !ok {
			return "", fmt.Errorf("subPath %q of volume %q was not prepared by the runtime", vm.SubPath, vm.Name)
		}
		return src, nil
	}
	if src, ok := c.Paths.Volumes[vm.Name]; ok {
		return src, nil
	}
	if vol.HostPath != nil {
		return path.Clean(vol.HostPath.Path), nil
	}
	return "", fmt.Errorf("volume %q has no host directory", vm.Name)
}

func bindMount(dst, src string, readOnly bool, prop string) specs.Mount {
	opts := []string{"rbind", prop}
	if readOnly {
		opts = append(opts, "ro")
	} else {
		opts = append(opts, "rw")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

// propagation maps mountPropagation to bind propagation as the kubelet
// does: None is rprivate, HostToContainer rslave, Bidirectional rshared.
func propagation(m *corev1.MountPropagationMode) string {
	if m == nil {
		return "rprivate"
	}
	switch *m {
	case corev1.MountPropagationHostToContainer:
		return "rslave"
	case corev1.MountPropagationBidirectional:
		return "rshared"
	}
	return "rprivate"
}

func depth(p string) int {
	p = path.Clean(p)
	if p == "/" {
		return 0
	}
	n := 0
	for _, r := range p {
		if r == '/' {
			n++
		}
	}
	return n
}
