package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func init() {
	register("nodepowers", nodePowers)
}

// nodePowers tries, as the container's root with every capability the pod
// was given, what only the node's root may do: make a device node (of
// /dev/null, which the device cgroup allows), give a file to an ID outside
// the pod's 65536, load a kernel module, and write a kernel sysctl of the
// node. Each line says "denied WHAT: ERR" or "ALLOWED WHAT"; it fails if
// any was allowed. Each attempt is one a root in the node's user
// namespace with the same capabilities gets through, so only the user
// namespace stops them.
//
//	attacker nodepowers
func nodePowers(args []string) error {
	var allowed []string
	try := func(what string, err error, denied ...error) {
		for _, d := range denied {
			if errors.Is(err, d) {
				fmt.Printf("denied %s: %v\n", what, err)
				return
			}
		}
		if err == nil {
			fmt.Printf("ALLOWED %s\n", what)
		} else {
			fmt.Printf("ALLOWED %s (the kernel went past the permission check: %v)\n", what, err)
		}
		allowed = append(allowed, what)
	}
	dev := "/tmp/nodepowers-null"
	err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3)))
	try("mknod c 1:3", err, unix.EPERM)
	f := "/tmp/nodepowers-file"
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		return err
	}
	try("chown 70000:70000", unix.Chown(f, 70000, 70000), unix.EINVAL, unix.EPERM)
	// A module image the kernel would refuse as malformed (ENOEXEC), once
	// past the capability check that answers EPERM. A kernel built
	// without modules (no /proc/modules) has no init_module to refuse.
	if _, err := os.Stat("/proc/modules"); err == nil {
		try("init_module", unix.InitModule([]byte("not a module"), ""), unix.EPERM)
	} else {
		fmt.Println("n/a init_module: the kernel has no module support")
	}
	// Process accounting, a power of the initial user namespace only;
	// acct(NULL) merely turns it off where it is off.
	try("acct", unix.Acct(""), unix.EPERM)
	w, err := os.OpenFile("/proc/sys/kernel/core_pattern", os.O_WRONLY, 0)
	if err == nil {
		_, err = w.Write([]byte("|/tmp/pwned"))
		w.Close()
	}
	try("write /proc/sys/kernel/core_pattern", err, unix.EACCES, unix.EPERM)
	if len(allowed) > 0 {
		return fmt.Errorf("allowed: %v", allowed)
	}
	return nil
}
