package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// idmappedLayers attaches an idmapped, read-only clone of each image layer
// under dir/lower/<i>, seen through the pod's user namespace: a file the
// layer has as root's is the pod root's (the range's first ID) in the
// container, and no file of the layer is ever chowned. Overlayfs takes
// idmapped layers (Linux 5.19) but cannot itself be idmapped, so, as
// containerd 2 does, the overlay is made over these clones; it keeps
// private copies of its layers, so done detaches the clones once the
// overlay is mounted.
func idmappedLayers(dir string, layers []string, usernsPath string) (mapped []string, done func() error, err error) {
	userns, err := os.Open(usernsPath)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the pod's user namespace: %w", err)
	}
	defer userns.Close()
	base := filepath.Join(dir, "lower")
	done = func() error {
		var errs []error
		for _, m := range mapped {
			if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
				errs = append(errs, fmt.Errorf("detaching idmapped layer %s: %w", m, err))
			}
		}
		if len(errs) == 0 {
			if err := os.RemoveAll(base); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			done()
		}
	}()
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, nil, err
	}
	for i, layer := range layers {
		target := filepath.Join(base, strconv.Itoa(i))
		if err := os.Mkdir(target, 0o700); err != nil {
			return nil, nil, err
		}
		if err := idmapMount(layer, target, int(userns.Fd())); err != nil {
			return nil, nil, fmt.Errorf("image layer %s: %w", layer, err)
		}
		mapped = append(mapped, target)
	}
	return mapped, done, nil
}

// idmapMount attaches at target a read-only clone of the directory src
// idmapped with the user namespace usernsFd.
func idmapMount(src, target string, usernsFd int) error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(fd)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP | unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID,
		Userns_fd: uint64(usernsFd)}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		return idmapError(src, err)
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attaching idmapped mount: %w", err)
	}
	return nil
}

// idmapError explains why the kernel refused an idmapped mount of path.
func idmapError(path string, err error) error {
	var st unix.Statfs_t
	fs := "unknown"
	if unix.Statfs(path, &st) == nil {
		fs = "0x" + strconv.FormatInt(int64(st.Type), 16)
		if name, ok := fsNames[int64(st.Type)]; ok {
			fs = name
		}
	}
	switch {
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("%s cannot be idmapped for the pod's user namespace: its filesystem (%s) does not support idmapped mounts on this kernel: %w", path, fs, err)
	case errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("%s cannot be idmapped for the pod's user namespace: the kernel has no mount_setattr (Linux 5.12): %w", path, err)
	}
	return fmt.Errorf("idmapping %s (%s) for the pod's user namespace: %w", path, fs, err)
}

// fsNames names the filesystems an idmap error is likely to meet.
var fsNames = map[int64]string{
	unix.EXT4_SUPER_MAGIC: "ext4", unix.TMPFS_MAGIC: "tmpfs", unix.XFS_SUPER_MAGIC: "xfs", unix.BTRFS_SUPER_MAGIC: "btrfs",
	unix.OVERLAYFS_SUPER_MAGIC: "overlay", unix.NFS_SUPER_MAGIC: "nfs", unix.PROC_SUPER_MAGIC: "proc", unix.SYSFS_MAGIC: "sysfs",
	unix.FUSE_SUPER_MAGIC: "fuse", unix.V9FS_MAGIC: "9p", unix.CGROUP_SUPER_MAGIC: "cgroup",
}

// checkIdmappable makes sure each of the pod's volume directories can be
// idmapped with the pod's user namespace before any container starts, so
// a volume on a filesystem that cannot (sysfs, procfs, many network
// filesystems) fails the pod with the volume's name and the reason rather
// than in the middle of a container's start. The trial mounts are never
// attached.
func checkIdmappable(usernsPath string, vols []volumeSource) error {
	userns, err := os.Open(usernsPath)
	if err != nil {
		return fmt.Errorf("opening the pod's user namespace: %w", err)
	}
	defer userns.Close()
	for _, v := range vols {
		fd, err := unix.OpenTree(unix.AT_FDCWD, v.path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return fmt.Errorf("%s: open_tree %s: %w", v.field, v.path, err)
		}
		err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())})
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("%s: %w", v.field, idmapError(v.path, err))
		}
	}
	return nil
}

// volumeSource is a directory bound into the pod's containers and what
// names it in the pod.
type volumeSource struct {
	field, path string
}

// userNSPath is the user namespace a container's spec joins, if any.
func userNSPath(s *specs.Spec) string {
	if s.Linux == nil {
		return ""
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			return ns.Path
		}
	}
	return ""
}

// joinUserNS hands libcontainer a container that joins the pod's user
// namespace at path. The spec names both the namespace and its mapping,
// as containerd's and CRI-O's do, and the sandbox's namespace was checked
// to have that mapping when it started. Given both, libcontainer would
// read the mapping back from the namespace by forking a process into it
// (twice) for each container, and warn; so it converts the spec with the
// mapping and a new namespace, and the namespace's path is set on the
// configuration, for the container and for its idmapped mounts, as
// libcontainer's own conversion sets it.
func joinUserNS(s *specs.Spec, path string) (*specs.Spec, func(*configs.Config) error) {
	cp, l := *s, *s.Linux
	l.Namespaces = slices.Clone(l.Namespaces)
	for i := range l.Namespaces {
		if l.Namespaces[i].Type == specs.UserNamespace {
			l.Namespaces[i].Path = ""
		}
	}
	cp.Linux = &l
	return &cp, func(cfg *configs.Config) error {
		cfg.Namespaces.Add(configs.NEWUSER, path)
		for _, m := range cfg.Mounts {
			if m.IDMapping != nil {
				m.IDMapping.UIDMappings, m.IDMapping.GIDMappings = nil, nil
				m.IDMapping.UserNSPath = path
			}
		}
		return nil
	}
}
