// Command standin plays two programs of the images critest pulls, where
// busybox has no applet that does the job (test/e2e builds it static and
// puts it in the images its registry serves):
//
//	pause  the sandbox's process: waits, reaps the pod's orphans, exits 0 on
//	       SIGTERM or SIGINT (registry.k8s.io/pause)
//	nnp    prints "Effective uid: N" (e2e-test-images/nonewprivs; installed
//	       setuid root, so N shows whether no_new_privs stopped the raise)
//
// The program is chosen by the name it is run under.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	switch filepath.Base(os.Args[0]) {
	case "nnp":
		fmt.Printf("Effective uid: %d\n", os.Geteuid())
	case "pause":
		pause()
	default:
		fmt.Fprintf(os.Stderr, "standin: run as pause or nnp, not %q\n", os.Args[0])
		os.Exit(2)
	}
}

func pause() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
