package handover

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestExecKeepsOnlyChosen re-executes the test binary, which opens two
// pipes and executes a shell keeping only the first: the shell must hold
// it and not the other.
func TestExecKeepsOnlyChosen(t *testing.T) {
	if os.Getenv("HANDOVER_CHILD") == "1" {
		keep, _, _ := os.Pipe()
		drop, _, _ := os.Pipe()
		k, d := FD(keep), FD(drop)
		err := Exec("/bin/sh", []string{"sh", "-c", "echo kept=" + strconv.Itoa(k) + ":$(test -e /proc/$$/fd/" + strconv.Itoa(k) +
			" && echo yes) dropped=" + strconv.Itoa(d) + ":$(test -e /proc/$$/fd/" + strconv.Itoa(d) + " && echo yes)"}, []int{k})
		t.Fatalf("Exec() = %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecKeepsOnlyChosen$")
	cmd.Env = append(os.Environ(), "HANDOVER_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	s := strings.TrimSpace(string(out))
	if !strings.Contains(s, ":yes dropped=") || strings.HasSuffix(s, ":yes") {
		t.Errorf("the executed shell says %q: want the kept pipe (yes) and not the other", s)
	}
}
