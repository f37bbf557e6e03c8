// Command podsec-runtime is podsec's OCI runtime: it answers runc's
// command line (create, start, state, kill, delete, run, exec, ...) so
// that containerd, podman, CRI-O and Docker can run containers with it,
// and it refuses specs that break the node's Pod Security Standards level.
// One file per verb, as runc's; package oci holds the library they share
// and internal/lc the libcontainer adapter. See docs/oci-runtime.md.
package main

import "os"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(runMain("podsec-runtime", version, os.Args[1:]))
}
