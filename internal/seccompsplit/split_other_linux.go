//go:build !seccomp

package seccompsplit

import (
	"errors"
	"fmt"
	"os"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// Filters is a container's profile as two filters (seccomp builds only).
type Filters struct {
	Early, Late *configs.Seccomp
}

// Split never splits without the seccomp build tag: libcontainer then
// refuses a profile, as it always has.
func Split(*configs.Seccomp) *Filters { return nil }

// EarlyFile is never reached without a split.
func EarlyFile(string, *Filters) (*os.File, error) {
	return nil, errors.New("seccomp not supported: podsec was built without the seccomp build tag")
}

// ExportArg is the argument of ExportMain.
const ExportArg = "seccomp-export"

// ExportMain fails without the seccomp build tag.
func ExportMain() {
	fmt.Fprintln(os.Stderr, "seccomp not supported: podsec was built without the seccomp build tag")
	os.Exit(1)
}
