package image

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// openDirPath opens the directory path as an O_PATH fd, the root that
// openBeneath resolves names in. path itself is the caller's choice and
// may be reached through symlinks; nothing below it may.
func openDirPath(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openBeneath opens name, a slash path inside dir, for reading, and
// returns it with its size. No symlink is followed on the way
// (RESOLVE_NO_SYMLINKS), the path cannot leave dir (RESOLVE_BENEATH), and
// it must be a regular file: a fifo, a device or a directory is refused
// by an O_PATH open and fstat before anything opens it for reading, so a
// fifo never blocks and a device never sees an open(2).
func openBeneath(dir *os.File, name string) (*os.File, int64, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	var fd int
	var err error
	for range 16 { // EAGAIN: a rename raced the lookup
		if fd, err = unix.Openat2(int(dir.Fd()), name, how); !errors.Is(err, unix.EAGAIN) {
			break
		}
	}
	if errors.Is(err, unix.ELOOP) {
		return nil, 0, fmt.Errorf("%s: %w (a symlink)", name, ErrNotRegular)
	}
	if errors.Is(err, unix.EXDEV) {
		return nil, 0, fmt.Errorf("%s: %w (outside the layout or on another mount)", name, ErrNotRegular)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	return reopenRegular(fd, name)
}

// openArgument opens path, a file the user named (symlinks followed),
// and reports whether it is a directory; otherwise it must be a regular
// file, returned open for reading with its size.
func openArgument(path string) (f *os.File, size int64, isDir bool, err error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, 0, false, fmt.Errorf("%s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		unix.Close(fd)
		return nil, 0, true, nil
	}
	f, size, err = reopenRegular(fd, path)
	return f, size, false, err
}

// reopenRegular checks that the O_PATH fd is a regular file and opens it
// for reading through its /proc/self/fd link: the same inode, never a
// path looked up again. It closes fd.
func reopenRegular(fd int, name string) (*os.File, int64, error) {
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, 0, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, fileKind(st.Mode))
	}
	rfd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_RDONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	return os.NewFile(uintptr(rfd), name), st.Size, nil
}

func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFLNK:
		return "symlink"
	}
	return fmt.Sprintf("mode %o", mode&unix.S_IFMT)
}
