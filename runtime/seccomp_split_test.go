//go:build seccomp

package runtime

import (
	"errors"
	"testing"

	"github.com/podsec/podsec/internal/seccompsplit"
)

// TestSplitFallsBackWhole: without an early program (here its export
// fails, as it would where podsec may not ptrace) the profile stays whole
// and the container runs under it in one filter, compiled by libcontainer.
func TestSplitFallsBackWhole(t *testing.T) {
	export := seccompsplit.ExportProgram
	seccompsplit.ExportProgram = func([]byte) ([]byte, error) { return nil, errors.New("no ptrace here") }
	t.Cleanup(func() { seccompsplit.ExportProgram = export })
	podCase{name: "whole profile", manifest: pod("whole", busybox, status+"; unshare -U true 2>&1 || echo unshare-refused", "", ""),
		want: []string{"Seccomp:\t2", "Seccomp_filters:\t1", "unshare-refused"}}.run(t)
}
