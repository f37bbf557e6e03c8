package runtime

import (
	"fmt"
	"os"
	"runtime"
	"slices"

	"golang.org/x/sys/unix"
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

// sandboxKeyringEnv marks the sandbox's second start, in a session keyring
// of its own.
const sandboxKeyringEnv = "PODSEC_SANDBOX_KEYRING=own"

// ownSessionKeyring gives the sandbox an empty session keyring and no
// descriptor but its pipes (fd 3, 4) and executable (fd 5). It inherited
// the session keyring of whoever started podsec, and keyrings are not
// namespaced: a container with CAP_SYS_PTRACE sharing its PID namespace
// can make the sandbox run system calls (ptrace injects them). A session
// keyring belongs to a thread's credentials and Go's threads already run,
// so the main thread joins a new anonymous keyring and re-executes the
// sealed binary (fd 5): every thread of the new image has it. Descriptors
// podsec's caller leaked to it (os/exec passes on any without
// close-on-exec) are closed by the same exec. It returns only in the
// re-executed sandbox.
func ownSessionKeyring() error {
	if slices.Contains(os.Environ(), sandboxKeyringEnv) {
		return nil
	}
	runtime.LockOSThread()
	if _, err := unix.KeyctlInt(unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("joining a session keyring of its own: %w", err)
	}
	if err := unix.CloseRange(6, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("closing inherited descriptors: %w", err)
	}
	if err := unix.Exec("/proc/self/fd/5", os.Args, append(os.Environ(), sandboxKeyringEnv)); err != nil {
		return fmt.Errorf("re-executing in its own session keyring: %w", err)
	}
	return nil
}

// lockDown ends the sandbox's set-up, once it runs as nobody in its empty
// root: every thread goes under RuntimeDefault for no capabilities with
// no_new_privs, so that system calls a CAP_SYS_PTRACE container injects
// into it are held to what the pod's own processes are held to, and the
// sandbox becomes non-dumpable.
func lockDown() error {
	if err := loadSandboxSeccomp(); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("making the sandbox non-dumpable: %w", err)
	}
	return nil
}
