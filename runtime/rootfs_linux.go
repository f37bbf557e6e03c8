package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/spec"
)

// maxUserDBBytes bounds what podsec reads of an image's /etc/passwd and
// /etc/group.
const maxUserDBBytes = 4 << 20

// mountRootfs mounts a container's rootfs: an overlay with the image's
// layers as lower directories and an upper directory of the container's
// own, so image files are never written. In a pod with a user namespace
// (userNS set) the layers are idmapped through it and the upper directory
// belongs to the pod's root: what the container writes is owned by its
// range on the node, and the image's files are never chowned.
func mountRootfs(dir string, layers []string, userNS *podUserNS) (string, error) {
	if len(layers) == 0 {
		return "", fmt.Errorf("mounting rootfs: the image has no layers")
	}
	rootfs := filepath.Join(dir, "rootfs")
	upper := filepath.Join(dir, "upper")
	work := filepath.Join(dir, "work")
	for _, d := range []string{rootfs, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("mounting rootfs: %w", err)
		}
	}
	if userNS != nil {
		if err := os.Chown(upper, userNS.rootID, userNS.rootID); err != nil {
			return "", fmt.Errorf("mounting rootfs: giving the upper directory to the pod's root: %w", err)
		}
		mapped, done, err := idmappedLayers(dir, layers, userNS.path)
		if err != nil {
			return "", fmt.Errorf("mounting rootfs: %w", err)
		}
		err = mountOverlay(rootfs, mapped, upper, work)
		if derr := done(); err == nil && derr != nil {
			unix.Unmount(rootfs, unix.MNT_DETACH)
			err = derr
		}
		if err != nil {
			return "", fmt.Errorf("mounting rootfs overlay over idmapped layers: %w", err)
		}
		return rootfs, nil
	}
	if err := mountOverlay(rootfs, layers, upper, work); err != nil {
		return "", fmt.Errorf("mounting rootfs overlay: %w", err)
	}
	return rootfs, nil
}

// podUserNS is the pod's user namespace as a container's rootfs needs it:
// the sandbox's namespace file and the host ID of the pod's root.
type podUserNS struct {
	path   string
	rootID int
}

// mountOverlay mounts an overlay with the new mount API: each directory is
// its own parameter ("lowerdir+", Linux 6.8), so paths may hold commas
// and colons and there is no limit of one page on the layer list. Older
// kernels get mount(2) with escaped options.
func mountOverlay(target string, layers []string, upper, work string) error {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return mountOverlayLegacy(target, layers, upper, work)
	}
	defer unix.Close(fd)
	for i := len(layers) - 1; i >= 0; i-- {
		if err := unix.FsconfigSetString(fd, "lowerdir+", layers[i]); err != nil {
			if i == len(layers)-1 {
				return mountOverlayLegacy(target, layers, upper, work)
			}
			return fmt.Errorf("lower layer %s: %w", layers[i], err)
		}
	}
	for k, v := range map[string]string{"upperdir": upper, "workdir": work} {
		if err := unix.FsconfigSetString(fd, k, v); err != nil {
			return fmt.Errorf("%s %s: %w", k, v, err)
		}
	}
	// The upper directory lives as long as the container: no sync of
	// it is worth waiting for, and an overlay's unmount otherwise syncs
	// the whole filesystem under it (Linux 5.10; older kernels refuse
	// the flag and sync).
	_ = unix.FsconfigSetFlag(fd, "volatile")
	if err := unix.FsconfigCreate(fd); err != nil {
		return err
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return err
	}
	defer unix.Close(mfd)
	return unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH)
}

// mountOverlayLegacy mounts with one option string, escaping the
// characters overlayfs splits on.
func mountOverlayLegacy(target string, layers []string, upper, work string) error {
	esc := strings.NewReplacer(`\`, `\\`, ",", `\,`, ":", `\:`)
	lower := make([]string, len(layers))
	for i, l := range layers {
		lower[len(layers)-1-i] = esc.Replace(l)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"), esc.Replace(upper), esc.Replace(work))
	if len(opts) >= os.Getpagesize() {
		return fmt.Errorf("%d layers make overlay options longer than a page", len(layers))
	}
	// volatile as in mountOverlay; a kernel older than 5.10 refuses it.
	if err := unix.Mount("overlay", target, "overlay", unix.MS_NODEV, opts+",volatile"); err == nil || len(opts)+len(",volatile") >= os.Getpagesize() {
		return err
	}
	return unix.Mount("overlay", target, "overlay", unix.MS_NODEV, opts)
}

// unmountRootfs unmounts what mountRootfs mounted. The container's
// directory, its upper and work directories with it, is removed next by
// removeAll, which reads the mount table once for all of them and refuses
// while anything below is still mounted.
func unmountRootfs(dir string) error {
	return unmountRemove(filepath.Join(dir, "rootfs"))
}

// readUserDB reads the image's /etc/passwd and /etc/group inside rootfs,
// never following a symlink out of it. Missing files give empty content.
func readUserDB(rootfs string) (*spec.UserDB, error) {
	db := &spec.UserDB{}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"/etc/passwd", &db.Passwd}, {"/etc/group", &db.Group}} {
		b, err := readInRoot(rootfs, f.name, maxUserDBBytes)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading the image's %s: %w", f.name, err)
		}
		*f.dst = b
	}
	return db, nil
}

// readInRoot reads a regular file at name inside root, resolving symlinks
// as if root were "/".
func readInRoot(root, name string, limit int64) ([]byte, error) {
	f, err := pathrs.OpenInRoot(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pathrs.Reopen(f, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// LayersUserDB reads /etc/passwd and /etc/group of an image from its
// unpacked layers without mounting them: the highest layer that has the
// file (or an overlay whiteout of it) wins. It is meant for previews such
// as podsec spec; a running container reads its mounted rootfs instead.
func LayersUserDB(layers []string) (*spec.UserDB, error) {
	db := &spec.UserDB{}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"/etc/passwd", &db.Passwd}, {"/etc/group", &db.Group}} {
		for i := len(layers) - 1; i >= 0; i-- {
			b, err := readInRoot(layers[i], f.name, maxUserDBBytes)
			if err == nil {
				*f.dst = b
				break
			}
			if isWhiteout(layers[i], f.name) {
				break // deleted in this layer
			}
		}
	}
	return db, nil
}

// isWhiteout reports whether name is an overlay whiteout (a 0:0 character
// device) in the layer. Its directory is resolved inside the layer, so a
// symlinked parent such as etc -> /root never leads the check onto the
// node's files.
func isWhiteout(layer, name string) bool {
	root, err := unix.Open(layer, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(root)
	dir, err := unix.Openat2(root, filepath.Dir(name), &unix.OpenHow{
		Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return false
	}
	defer unix.Close(dir)
	var st unix.Stat_t
	if err := unix.Fstatat(dir, filepath.Base(name), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}
