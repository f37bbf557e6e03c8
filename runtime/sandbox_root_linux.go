package runtime

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/seccompsplit"
)

// pivotToEmptyRoot makes an empty, read-only tmpfs the root of the calling
// process's (private) mount namespace and detaches everything else, the
// node's filesystem included. The sandbox's namespaces are visible to the
// pod's processes (with a shared PID namespace, /proc/1 is the sandbox):
// a chroot would leave the node's root one ".." away from /proc/1/root,
// while after pivot_root and the detach there is nothing above the root to
// walk to. The new root is attached on top of "/": it needs no directory
// of the node, and a descriptor opened before the namespace was made would
// name a mount of the node's namespace, where it cannot be attached.
func pivotToEmptyRoot() error {
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fs)
	for _, kv := range [][2]string{{"size", "4k"}, {"nr_inodes", "8"}, {"mode", "0555"}} {
		if err := unix.FsconfigSetString(fs, kv[0], kv[1]); err != nil {
			return fmt.Errorf("configuring tmpfs %s=%s: %w", kv[0], kv[1], err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fmt.Errorf("creating tmpfs: %w", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC,
		unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return fmt.Errorf("fsmount tmpfs: %w", err)
	}
	defer unix.Close(mnt)
	if err := unix.MoveMount(mnt, "", unix.AT_FDCWD, "/", unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attaching the empty root: %w", err)
	}
	if err := unix.Fchdir(mnt); err != nil {
		return fmt.Errorf("entering the empty root: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on the new one, at the same
	// place; unmounting "." then takes the old root (and every mount below
	// it) out of this namespace for good, as runc does.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the node's root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("entering the empty root: %w", err)
	}
	return nil
}

// readSandboxFilter reads the seccomp program podsec handed the sandbox
// (a sealed memfd) and closes it.
func readSandboxFilter(fd int) ([]byte, error) {
	defer unix.Close(fd)
	buf := make([]byte, bpfMaxBytes+1)
	n := 0
	for n < len(buf) {
		m, err := unix.Pread(fd, buf[n:], int64(n))
		if err != nil {
			return nil, fmt.Errorf("reading the seccomp program: %w", err)
		}
		if m == 0 {
			break
		}
		n += m
	}
	if n == 0 || n > bpfMaxBytes || n%8 != 0 {
		return nil, fmt.Errorf("reading the seccomp program: %d bytes", n)
	}
	return buf[:n], nil
}

// closeInherited closes every descriptor the sandbox inherited beyond its
// pipes (fd 3, 4): os/exec passes on any descriptor of podsec without
// close-on-exec, such as those podsec's own caller leaked to it, while
// every descriptor Go opens has close-on-exec. The sandbox's session
// keyring is already its own: podsec starts it from a thread that joined
// an empty one (startInOwnKeyring).
func closeInherited() error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("listing descriptors: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("listing descriptors: %w", err)
	}
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd <= 4 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue // closed since (the listing's own), or Go's
		}
		if err := unix.Close(fd); err != nil {
			return fmt.Errorf("closing inherited descriptor %d: %w", fd, err)
		}
	}
	return nil
}

// lockDown ends the sandbox's set-up, once it runs as nobody in its empty
// root: every thread goes under RuntimeDefault for no capabilities with
// no_new_privs, so that system calls a CAP_SYS_PTRACE container injects
// into it are held to what the pod's own processes are held to, and the
// sandbox becomes non-dumpable.
func lockDown(prog []byte) error {
	if err := seccompsplit.Load(prog); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("making the sandbox non-dumpable: %w", err)
	}
	return nil
}
