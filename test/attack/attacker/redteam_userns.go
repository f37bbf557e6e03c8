package main

import (
	"fmt"
	"os"
)

func init() {
	register("euid", euid)
}

// euid prints the IDs the program runs with. Copied by a pod to a file
// the node keeps and made setuid, then run by the node's unprivileged
// users, it shows whose powers the copy gives them: "euid 0" is the
// node's root.
//
//	attacker euid
func euid(args []string) error {
	fmt.Printf("euid %d uid %d egid %d\n", os.Geteuid(), os.Getuid(), os.Getegid())
	return nil
}
