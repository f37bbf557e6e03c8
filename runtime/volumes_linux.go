package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
)

// podVolumes are the host directories of a pod's volumes.
type podVolumes struct {
	dirs   map[string]string // volume name -> host dir
	owned  []string          // emptyDirs this pod made: removed at the end
	tmpfss []string          // Memory emptyDirs: unmounted at the end
}

// prepareVolumes makes the pod's emptyDirs and checks its hostPaths as the
// kubelet does. On error, nothing it made is left.
// memSize gives a Memory emptyDir's tmpfs size in bytes.
func prepareVolumes(l Layout, pod *corev1.Pod, plan *pipeline.Plan, memSize func(*corev1.EmptyDirVolumeSource) int64) (v *podVolumes, err error) {
	v = &podVolumes{dirs: map[string]string{}}
	defer func() {
		if err != nil {
			v.cleanup()
		}
	}()
	for i, vol := range pod.Spec.Volumes {
		switch {
		case vol.EmptyDir != nil:
			dir := l.VolumeDir(pod.Namespace, pod.Name, vol.Name)
			if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
				return v, fmt.Errorf("creating emptyDir %q: %w", vol.Name, err)
			}
			if err := os.Mkdir(dir, 0o777); err != nil {
				return v, fmt.Errorf("creating emptyDir %q: %w", vol.Name, err)
			}
			v.owned = append(v.owned, dir)
			if vol.EmptyDir.Medium == corev1.StorageMediumMemory {
				// Never tmpfs's default of half the node's RAM: the
				// kubelet's size, whose pages are charged to the pod's
				// cgroup, within the pod's memory limit.
				opts := "mode=0777"
				if size := memSize(vol.EmptyDir); size > 0 {
					opts += ",size=" + strconv.FormatInt(size, 10)
				}
				if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
					return v, fmt.Errorf("mounting Memory emptyDir %q: %w", vol.Name, err)
				}
				v.tmpfss = append(v.tmpfss, dir)
			}
			// Mkdir's mode is cut by the umask; emptyDirs are 0777.
			if err := os.Chmod(dir, 0o777); err != nil {
				return v, fmt.Errorf("creating emptyDir %q: %w", vol.Name, err)
			}
			v.dirs[vol.Name] = dir
		case vol.ConfigMap != nil || vol.Secret != nil || vol.DownwardAPI != nil:
			dir := l.VolumeDir(pod.Namespace, pod.Name, vol.Name)
			if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
				return v, err
			}
			if err := os.Mkdir(dir, 0o755); err != nil {
				return v, fmt.Errorf("creating volume %q: %w", vol.Name, err)
			}
			v.owned = append(v.owned, dir)
			// As the kubelet does, a secret never touches the disk.
			if vol.Secret != nil {
				if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755"); err != nil {
					return v, fmt.Errorf("mounting secret volume %q: %w", vol.Name, err)
				}
				v.tmpfss = append(v.tmpfss, dir)
			}
			if err := writeProjected(dir, plan.Volumes[i].Files); err != nil {
				return v, fmt.Errorf("spec.volumes[%d]: volume %q: %w", i, vol.Name, err)
			}
			v.dirs[vol.Name] = dir
		case vol.HostPath != nil:
			if err := checkHostPath(vol.HostPath); err != nil {
				return v, fmt.Errorf("spec.volumes[%d].hostPath: %w", i, err)
			}
			v.dirs[vol.Name] = filepath.Clean(vol.HostPath.Path)
		default:
			return v, fmt.Errorf("spec.volumes[%d]: volume %q: type not supported by podsec", i, vol.Name)
		}
	}
	return v, nil
}

// cleanup unmounts and removes the emptyDirs.
func (v *podVolumes) cleanup() error {
	var errs []error
	for _, d := range v.tmpfss {
		if err := unix.Unmount(d, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", d, err))
		}
	}
	for _, d := range v.owned {
		if err := removeAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkHostPath applies the hostPath type check of the kubelet, creating
// what the *OrCreate types ask for.
func checkHostPath(hp *corev1.HostPathVolumeSource) error {
	t := corev1.HostPathUnset
	if hp.Type != nil {
		t = *hp.Type
	}
	p := filepath.Clean(hp.Path)
	st, err := os.Stat(p)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("hostPath type check failed: %w", err)
	}
	fail := func(what string) error { return fmt.Errorf("hostPath type check failed: %s is not a %s", p, what) }
	switch t {
	case corev1.HostPathUnset:
		return nil
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("creating hostPath directory: %w", err)
			}
			return nil
		}
		if !st.IsDir() {
			return fail("directory")
		}
	case corev1.HostPathFileOrCreate:
		if !exists {
			f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("creating hostPath file: %w", err)
			}
			return f.Close()
		}
		if !st.Mode().IsRegular() {
			return fail("file")
		}
	case corev1.HostPathDirectory, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev:
		if !exists {
			return fmt.Errorf("hostPath type check failed: %s does not exist", p)
		}
		ok := map[corev1.HostPathType]bool{
			corev1.HostPathDirectory: st.IsDir(),
			corev1.HostPathFile:      st.Mode().IsRegular(),
			corev1.HostPathSocket:    st.Mode()&os.ModeSocket != 0,
			corev1.HostPathCharDev:   st.Mode()&os.ModeCharDevice != 0,
			corev1.HostPathBlockDev:  st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0,
		}[t]
		if !ok {
			return fail(map[corev1.HostPathType]string{
				corev1.HostPathDirectory: "directory", corev1.HostPathFile: "file", corev1.HostPathSocket: "socket",
				corev1.HostPathCharDev: "character device", corev1.HostPathBlockDev: "block device"}[t])
		}
	default:
		return fmt.Errorf("hostPath type %q is not supported", t)
	}
	return nil
}

// subPathMount resolves subPath inside the volume at root without letting
// a symlink lead out of it (RESOLVE_BENEATH refuses such a path), creates
// it as a directory when missing, as the kubelet does, and bind-mounts the
// object it opened onto dst, so no later swap of a path component can
// redirect the container's mount.
func subPathMount(root, sub, dst string) error {
	rootf, err := os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening volume: %w", err)
	}
	defer rootf.Close()
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(int(rootf.Fd()), sub, how)
	if errors.Is(err, unix.ENOENT) {
		var f *os.File
		if f, err = pathrs.MkdirAllHandle(rootf, sub, 0o755); err == nil {
			f.Close()
			fd, err = unix.Openat2(int(rootf.Fd()), sub, how)
		}
	}
	if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("subPath %q resolves outside its volume: refused", sub)
	}
	if err != nil {
		return fmt.Errorf("opening subPath %q: %w", sub, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("opening subPath %q: %w", sub, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = os.Mkdir(dst, 0o700)
	} else {
		var f *os.File
		if f, err = os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o600); err == nil {
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("creating subPath mount point: %w", err)
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), dst, "", unix.MS_BIND, ""); err != nil {
		os.Remove(dst)
		return fmt.Errorf("bind-mounting subPath %q: %w", sub, err)
	}
	return nil
}
