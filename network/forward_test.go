package network

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestForwardRules: on a node with a CNI-ADMIN chain, openForward puts
// the two jumps of the subnet's traffic into FORWARD once, however often
// it runs, and closeForward takes every rule with the network's comment
// out again, duplicates included (two Setups at once make them).
func TestForwardRules(t *testing.T) {
	withCNIAdmin(t) // before the env: its cleanup then runs after the env's
	e := newEnv(t, BackendInProcess)
	ctx := context.Background()
	for i := range 2 {
		os.Remove(e.m.forwardMarker()) // as a podsec whose marker was lost
		if err := e.m.openForward(ctx); err != nil {
			t.Fatalf("openForward #%d: %v", i+1, err)
		}
		if n := e.forwardRules(t); n != 2 {
			t.Fatalf("after openForward #%d: %d rules with the comment %q, want the 2 jumps to %s", i+1, n, e.m.forwardComment(), cniAdminChain)
		}
	}
	dup := append([]string{"-I", "FORWARD"}, e.m.forwardRules(true, false)[0]...)
	if out, err := exec.Command("iptables", dup...).CombinedOutput(); err != nil {
		t.Fatalf("iptables %v: %v: %s", dup, err, out)
	}
	if err := e.m.closeForward(ctx); err != nil {
		t.Fatalf("closeForward: %v", err)
	}
	if n := e.forwardRules(t); n != 0 {
		t.Errorf("after closeForward: %d rules with the comment %q, want none", n, e.m.forwardComment())
	}
	if _, err := os.Stat(e.m.forwardMarker()); !os.IsNotExist(err) {
		t.Errorf("after closeForward: marker %s: %v, want it gone", e.m.forwardMarker(), err)
	}
}

// withCNIAdmin makes sure the node has a CNI-ADMIN chain, as an
// administrator makes it; one the test made goes at its end.
func withCNIAdmin(t *testing.T) {
	if exec.Command("iptables", "-N", cniAdminChain).Run() == nil {
		t.Cleanup(func() { exec.Command("iptables", "-X", cniAdminChain).Run() })
	}
}

// forwardRules counts the FORWARD rules with the network's comment; each
// must name its subnet.
func (e *env) forwardRules(t *testing.T) int {
	t.Helper()
	rs, err := e.m.ourForwardRules(context.Background())
	if err != nil {
		t.Fatalf("ourForwardRules: %v", err)
	}
	for _, r := range rs {
		if !strings.Contains(r.line, e.cfg.Subnet) {
			t.Errorf("FORWARD rule %q has the comment of %s but not its subnet %s", r.line, e.cfg.Bridge, e.cfg.Subnet)
		}
	}
	return len(rs)
}

// TestQuoteArgs: an argument with a space or a quote reaches
// iptables-restore as one word.
func TestQuoteArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-s", "10.1.2.0/24", "-j", "ACCEPT"}, `-s 10.1.2.0/24 -j ACCEPT`},
		{[]string{"--comment", "podsec: pods of br0"}, `--comment "podsec: pods of br0"`},
		{[]string{"--comment", `a "b" \c`}, `--comment "a \"b\" \\c"`},
	} {
		if got := quoteArgs(tc.args); got != tc.want {
			t.Errorf("quoteArgs(%q) = %s, want %s", tc.args, got, tc.want)
		}
		if got := splitQuoted(quoteArgs(tc.args)); strings.Join(got, "\x00") != strings.Join(tc.args, "\x00") {
			t.Errorf("splitQuoted(quoteArgs(%q)) = %q", tc.args, got)
		}
	}
}
