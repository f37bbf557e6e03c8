package network

import (
	"context"
	"os"
	"os/exec"
	"strconv"
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
	jumps, _ := e.m.forwardRules(true, false)
	dup := append([]string{"-I", "FORWARD"}, jumps[0]...)
	if out, err := exec.Command("iptables", dup...).CombinedOutput(); err != nil {
		t.Fatalf("iptables %v: %v: %s", dup, err, out)
	}
	if err := e.m.closeForward(ctx, false); err != nil {
		t.Fatalf("closeForward: %v", err)
	}
	if n := e.forwardRules(t); n != 0 {
		t.Errorf("after closeForward: %d rules with the comment %q, want none", n, e.m.forwardComment())
	}
	if _, err := os.Stat(e.m.forwardMarker()); !os.IsNotExist(err) {
		t.Errorf("after closeForward: marker %s: %v, want it gone", e.m.forwardMarker(), err)
	}
}

// TestForwardLegacyRules: FORWARD rules of an older podsec (the comment
// names the bridge alone, the marker is empty) may be another root's: a
// root's Setup adds its own block beside them, and its closeForward
// leaves them while the bridge stays and takes them with the bridge.
func TestForwardLegacyRules(t *testing.T) {
	withCNIAdmin(t)
	e := newEnv(t, BackendInProcess)
	ctx := context.Background()
	legacy := []string{"-s", e.cfg.Subnet, "-m", "comment", "--comment", legacyForwardComment(e.cfg.Bridge), "-j", cniAdminChain}
	count := func() int {
		t.Helper()
		all, err := forwardChain(ctx)
		if err != nil {
			t.Fatalf("forwardChain: %v", err)
		}
		n := 0
		for _, r := range all {
			if r.comment() == legacyForwardComment(e.cfg.Bridge) {
				n++
			}
		}
		return n
	}
	for _, bridgeGone := range []bool{false, true} {
		if out, err := exec.Command("iptables", append([]string{"-I", "FORWARD"}, legacy...)...).CombinedOutput(); err != nil {
			t.Fatalf("iptables -I FORWARD %v: %v: %s", legacy, err, out)
		}
		t.Cleanup(func() { exec.Command("iptables", append([]string{"-D", "FORWARD"}, legacy...)...).Run() })
		if err := os.WriteFile(e.m.forwardMarker(), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := e.m.openForward(ctx); err != nil {
			t.Fatalf("openForward after an older podsec: %v", err)
		}
		if n := e.forwardRules(t); n != 2 {
			t.Errorf("openForward after an older podsec: %d rules with the comment %q, want the 2 jumps", n, e.m.forwardComment())
		}
		if err := e.m.closeForward(ctx, bridgeGone); err != nil {
			t.Fatalf("closeForward(%v): %v", bridgeGone, err)
		}
		want := 1
		if bridgeGone {
			want = 0
		}
		if n, m := count(), e.forwardRules(t); n != want || m != 0 {
			t.Errorf("closeForward(bridgeGone %v): %d rules of the older podsec, %d of the root, want %d and 0", bridgeGone, n, m, want)
		}
		if !bridgeGone {
			exec.Command("iptables", append([]string{"-D", "FORWARD"}, legacy...)...).Run()
		}
	}
}

// TestPlanForward: a block's accepts go after every podsec block's jumps
// to CNI-ADMIN, older podsec's included, and its jumps at the top, so no
// accept of any block comes before a jump; rules already there are not
// added again.
func TestPlanForward(t *testing.T) {
	const ours, other = "podsec: pods of br0, root aaaa", "podsec: pods of br0, root bbbb"
	mk := func(dir, comment, target string) []string {
		return []string{dir, "10.1.0.0/24", "-m", "comment", "--comment", comment, "-j", target}
	}
	jumps := [][]string{mk("-s", ours, cniAdminChain), mk("-d", ours, cniAdminChain)}
	accepts := [][]string{mk("-s", ours, "ACCEPT"), mk("-d", ours, "ACCEPT")}
	have := func(rs ...[]string) []rule {
		var out []rule
		for _, r := range rs {
			out = append(out, rule{chain: "FORWARD", args: r})
		}
		return out
	}
	line := func(at int, r []string) string { return "-I FORWARD " + strconv.Itoa(at) + " " + quoteArgs(r) }
	for _, tc := range []struct {
		name string
		have []rule
		want []string
	}{
		{"empty chain", nil, []string{line(1, accepts[1]), line(1, accepts[0]), line(1, jumps[1]), line(1, jumps[0])}},
		{"another root's block", have(mk("-s", other, cniAdminChain), mk("-d", other, cniAdminChain), mk("-s", other, "ACCEPT"), []string{"-j", "LIBVIRT_FWX"}),
			[]string{line(3, accepts[1]), line(3, accepts[0]), line(1, jumps[1]), line(1, jumps[0])}},
		{"an older podsec's jump", have([]string{"-j", "LIBVIRT_FWX"}, mk("-s", "podsec: pods of br0", cniAdminChain)),
			[]string{line(3, accepts[1]), line(3, accepts[0]), line(1, jumps[1]), line(1, jumps[0])}},
		{"a foreign jump to CNI-ADMIN is not a block's", have([]string{"-j", "LIBVIRT_FWX"}, []string{"-j", cniAdminChain}),
			[]string{line(1, accepts[1]), line(1, accepts[0]), line(1, jumps[1]), line(1, jumps[0])}},
		{"ours in place but an accept", have(jumps[0], jumps[1], accepts[0]), []string{line(3, accepts[1])}},
		{"all in place", have(jumps[0], jumps[1], accepts[0], accepts[1]), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := planForward(tc.have, ours, jumps, accepts)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("planForward(%s) =\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
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

// TestForwardRepaired: the root's FORWARD rules are gone while its marker
// stays, as a podsec killed between the marker and the rules leaves
// them, or a reload of the node's firewall (here: iptables -D of each).
// The next Setup, and GC, put them back. Before, the marker was trusted:
// every later pod of the root bypassed CNI-ADMIN, and the administrator's
// drops did not hold for it.
func TestForwardRepaired(t *testing.T) {
	withCNIAdmin(t)
	e := newEnv(t, BackendInProcess)
	ctx := context.Background()
	flush := func() {
		t.Helper()
		rs, err := e.m.ourForwardRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if out, err := exec.Command("iptables", append([]string{"-D", "FORWARD"}, r.args...)...).CombinedOutput(); err != nil {
				t.Fatalf("iptables -D FORWARD %v: %v: %s", r.args, err, out)
			}
		}
		if n := e.forwardRules(t); n != 0 {
			t.Fatalf("%d FORWARD rules of the root left after deleting them", n)
		}
		if _, err := os.Stat(e.m.forwardMarker()); err != nil {
			t.Fatalf("the FORWARD marker: %v, want it kept", err)
		}
	}
	if _, err := e.m.Setup(ctx, ref("a"), e.newNetNS(), nil); err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	flush()
	if _, err := e.m.Setup(ctx, ref("b"), e.newNetNS(), nil); err != nil {
		t.Fatalf("Setup(b): %v", err)
	}
	if n := e.forwardRules(t); n != 2 {
		t.Errorf("after Setup(b): %d FORWARD rules of the root, want its 2 jumps to %s", n, cniAdminChain)
	}
	flush()
	if err := e.m.GC(ctx, func(PodRef) bool { return true }); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if n := e.forwardRules(t); n != 2 {
		t.Errorf("after GC, pods a and b alive: %d FORWARD rules of the root, want its 2 jumps to %s", n, cniAdminChain)
	}
}
