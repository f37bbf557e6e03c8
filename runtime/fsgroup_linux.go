package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Modes the kubelet adds to a volume's files for fsGroup.
const (
	rwMask   = 0o660
	roMask   = 0o440
	execMask = 0o110
)

// applyFSGroup gives a volume to the pod's fsGroup as the kubelet's
// SetVolumeOwnership does: every entry's group becomes fsGroup (lchown:
// symlinks are changed, never followed); files gain rw (or r for a
// read-only volume) for owner and group; directories also gain x and
// setgid, so new files inherit the group. With OnRootMismatch nothing is
// walked when the volume's root already matches.
//
// This is where fsGroup reaches the kernel (fchownat and fchown); the plan
// (pipeline.Volume) decided it from spec.securityContext.fsGroup.
func applyFSGroup(dir string, fsGroup int64, readOnly, onRootMismatch bool) error {
	mask := uint32(rwMask)
	if readOnly {
		mask = roMask
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("applying fsGroup to %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if onRootMismatch {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fmt.Errorf("applying fsGroup to %s: %w", dir, err)
		}
		want := mask | execMask | unix.S_ISGID
		if int64(st.Gid) == fsGroup && st.Mode&want == want {
			return nil
		}
	}
	if err := ownTree(fd, uint32(fsGroup), mask, 0); err != nil {
		return fmt.Errorf("applying fsGroup to %s: %w", dir, err)
	}
	return nil
}

// maxVolumeDepth bounds the walk, so a hostile tree cannot exhaust the
// stack.
const maxVolumeDepth = 256

// ownTree changes the directory open at fd and everything below it,
// opening each entry relative to its parent with O_NOFOLLOW.
func ownTree(fd int, gid, mask uint32, depth int) error {
	if depth > maxVolumeDepth {
		return fmt.Errorf("deeper than %d directories", maxVolumeDepth)
	}
	if err := ownFd(fd, gid, mask|execMask|unix.S_ISGID); err != nil {
		return err
	}
	// Close-on-exec, as every other descriptor podsec opens: a pod of
	// the same process starting meanwhile must not inherit it.
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(dup), "dir")
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			cfd, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			err = ownTree(cfd, gid, mask, depth+1)
			unix.Close(cfd)
			if err != nil {
				return err
			}
		case unix.S_IFREG:
			cfd, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			err = ownFd(cfd, gid, mask)
			unix.Close(cfd)
			if err != nil {
				return err
			}
		default:
			// Symlinks, fifos, sockets, devices: the group only, on the
			// entry itself.
			if err := unix.Fchownat(fd, name, -1, int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
		}
	}
	return nil
}

func ownFd(fd int, gid, add uint32) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if err := unix.Fchown(fd, -1, int(gid)); err != nil {
		return err
	}
	return unix.Fchmod(fd, (st.Mode&0o7777)|add)
}
