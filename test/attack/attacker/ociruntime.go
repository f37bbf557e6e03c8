package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func init() {
	register("oci-openwrite", ociOpenWrite)
	register("oci-readnonempty", ociReadNonEmpty)
	register("oci-keyctl", ociKeyctl)
}

// ociOpenWrite opens PATH for writing and closes it without writing a
// byte (no O_TRUNC, no O_CREAT): it proves a node file such as
// /proc/sys/kernel/core_pattern could be changed, without changing it.
//
//	attacker oci-openwrite PATH
func ociOpenWrite(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: oci-openwrite PATH")
	}
	fd, err := unix.Open(args[0], unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open %s for writing: %w", args[0], err)
	}
	return unix.Close(fd)
}

// ociReadNonEmpty reads PATH and succeeds if it holds anything: a masked
// /proc file reads empty (/dev/null is bound over it).
//
//	attacker oci-readnonempty PATH
func ociReadNonEmpty(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: oci-readnonempty PATH")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return fmt.Errorf("%s reads empty (masked)", args[0])
	}
	return nil
}

// ociKeyctl asks for the ID of the session keyring: keyrings are not
// namespaced, and RuntimeDefault refuses keyctl(2) altogether.
//
//	attacker oci-keyctl
func ociKeyctl([]string) error {
	id, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("keyctl(KEYCTL_GET_KEYRING_ID): %w", err)
	}
	fmt.Printf("session keyring %d\n", id)
	return nil
}
