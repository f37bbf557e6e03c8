package runtime

import (
	"errors"
	"fmt"
	"os"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// unmountRemove detaches a mount point (lazily when busy) and removes it.
// A path that is not there is not an error.
func unmountRemove(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}

// removeAll removes dir and everything below it, but refuses when anything
// is still mounted there: a bind mount left behind (a hostPath subPath, a
// volume) must never have its content deleted with the pod.
func removeAll(dir string) error {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return fmt.Errorf("removing %s: reading mounts: %w", dir, err)
	}
	if len(mounts) > 0 {
		return fmt.Errorf("removing %s: %s is still mounted: left in place", dir, mounts[0].Mountpoint)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	return nil
}
