//go:build !seccomp

package runtime

import (
	"errors"
	"fmt"
	"os"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// sandboxFilter fails without the seccomp build tag, as libcontainer
// fails to start a container with a seccomp profile: the sandbox is never
// left unfiltered.
func sandboxFilter(string) ([]byte, error) {
	return nil, errors.New("seccomp not supported: podsec was built without the seccomp build tag")
}

// seccompSplit is a container's profile as two filters (seccomp builds
// only).
type seccompSplit struct {
	early, late *configs.Seccomp
}

// splitSeccomp never splits without the seccomp build tag: libcontainer
// then refuses a profile, as it always has.
func splitSeccomp(*configs.Seccomp) *seccompSplit { return nil }

// earlyFilter is never reached without a split.
func earlyFilter(string, *seccompSplit) (*os.File, error) {
	return nil, errors.New("seccomp not supported: podsec was built without the seccomp build tag")
}

// SeccompExportArg is the argument of SeccompExportMain.
const SeccompExportArg = "seccomp-export"

// SeccompExportMain fails without the seccomp build tag.
func SeccompExportMain() {
	fmt.Fprintln(os.Stderr, "seccomp not supported: podsec was built without the seccomp build tag")
	os.Exit(1)
}
