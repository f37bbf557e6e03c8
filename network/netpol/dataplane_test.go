package netpol

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/podsec/podsec/internal/netnstest"
	"github.com/podsec/podsec/policy/netpol"
	"github.com/podsec/podsec/policy/netpol/netpoltest"
)

// parsePolicies decodes and validates NetworkPolicies separated by "---".
func parsePolicies(tb testing.TB, docs string) []*networkingv1.NetworkPolicy {
	tb.Helper()
	out := netpoltest.ParsePolicies(tb, docs)
	for _, np := range out {
		if errs := netpol.ValidatePolicy(np); len(errs) > 0 {
			tb.Fatalf("ValidatePolicy(%s) = %v", np.Name, errs.ToAggregate())
		}
	}
	return out
}

var (
	tcp80   = netpoltest.Probe{Port: 80, Proto: corev1.ProtocolTCP}
	tcp5432 = netpoltest.Probe{Port: 5432, Proto: corev1.ProtocolTCP}
)

// checkMatrix probes every pair of the env's pods on each port and fails
// the test where the observed matrix differs from the engine's.
func (e *env) checkMatrix(eng *netpol.Engine, probes ...netpoltest.Probe) {
	e.tb.Helper()
	e.forgetConnections()
	for _, s := range probes {
		want := eng.Matrix(nil, s.Port, s.Proto)
		got, err := Probe(context.Background(), e.targets(eng), s.Port, s.Proto, DefaultProbeTimeout)
		if err != nil {
			e.tb.Fatalf("Probe(%d/%s): %v", s.Port, s.Proto, err)
		}
		if d := want.Diff(got); len(d) > 0 {
			var b strings.Builder
			want.Write(&b, got)
			e.tb.Errorf("Probe(%d/%s) differs from the engine's Matrix:\n%s\n%s", s.Port, s.Proto, strings.Join(d, "\n"), b.String())
			out, _ := exec.Command("nft", "list", "table", "inet", e.dp.Table()).CombinedOutput()
			e.tb.Logf("nft list table inet %s:\n%s", e.dp.Table(), out)
		}
	}
}

// newPolicyEnv builds the shared cases' cluster (netpoltest) moved to the
// env's /16: a network namespace per pod, the hostNetwork pod as the node
// itself. Every pod serves its containerPorts, and echoes UDP on every
// UDP port a case probes: a UDP probe of a port nobody serves relies on
// ICMP port unreachable, which the kernel rate-limits.
func newPolicyEnv(t *testing.T) *env {
	e := newEnv(t)
	for _, n := range netpoltest.Namespaces() {
		e.ns = append(e.ns, netpol.Namespace{Name: n.Name, Labels: n.Labels})
	}
	udp := map[int32]bool{}
	for _, c := range netpoltest.Cases() {
		for _, p := range netpoltest.Probes(c) {
			if p.Proto == corev1.ProtocolUDP {
				udp[p.Port] = true
			}
		}
	}
	for _, p := range netpoltest.Pods() {
		ip := netpoltest.Rebase(p.IP, e.prefix)
		if p.HostNetwork {
			e.pods = append(e.pods, &fakePod{Pod: netpol.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: ip, HostNetwork: true}})
			continue
		}
		var ports []netpol.ContainerPort
		served := map[int32]bool{}
		for _, cp := range p.Ports {
			ports = append(ports, netpol.ContainerPort{Name: cp.Name, Protocol: cp.Protocol, Port: cp.Port})
			if cp.Protocol == corev1.ProtocolUDP {
				served[cp.Port] = true
			}
		}
		fp := e.addPod(p.Namespace, p.Name, ip, p.Labels, ports...)
		for port := range udp {
			if !served[port] {
				netnstest.ServeUDPEcho(t, fp.netns, int(port))
			}
		}
	}
	return e
}

// TestPolicies programs each shared case's policies (netpoltest.Cases, the
// table the verdict engine's tests check verdict by verdict) into the
// dataplane, one after the other over the same running pods (so every
// change is an incremental Sync), and checks that the matrix probed on the
// ports the case names is the engine's.
func TestPolicies(t *testing.T) {
	e := newPolicyEnv(t)
	for _, tc := range netpoltest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			e.tb = t
			eng := e.engine(netpoltest.RebasePolicies(tc.Policies, e.prefix))
			st, d := e.sync(eng)
			t.Logf("Sync: %+v in %v", st, d)
			e.checkMatrix(eng, netpoltest.Probes(tc)...)
		})
	}
	e.tb = t
	// Back to no policy: the table goes.
	e.sync(e.engine(""))
	if out, _ := exec.Command("nft", "list", "tables").CombinedOutput(); strings.Contains(string(out), e.dp.Table()) {
		t.Errorf("table %s left after a Sync with no isolated pod:\n%s", e.dp.Table(), out)
	}
}

// TestPolicyChangeWhilePodsRun adds a policy and removes it again while
// the pods run: the probes right after each Sync returns see the change.
func TestPolicyChangeWhilePodsRun(t *testing.T) {
	e := newPolicyEnv(t)
	open := e.engine("")
	e.checkMatrix(open, tcp5432)
	deny := e.engine(netpoltest.SeedDefaultDeny + "---" + netpoltest.SeedPostgres)
	st, d := e.sync(deny)
	t.Logf("adding default-deny and postgres-netpolicy: %+v in %v", st, d)
	e.checkMatrix(deny, tcp5432)
	pg := e.engine(netpoltest.SeedPostgres)
	st, d = e.sync(pg)
	t.Logf("removing default-deny: %+v in %v", st, d)
	// db keeps its class: default-deny added nothing to what it allows,
	// and a class is named by what it allows. web and client are no
	// longer isolated: their class goes.
	if st.Created || st.ReadBack || st.ClassesAdded != 0 || st.ClassesDeleted != 1 || st.PeersAdded != 0 || st.PodsChanged != 2 {
		t.Errorf("Sync(removing one policy) = %+v, want an incremental update from memory: 1 class deleted, 2 pods changed", st)
	}
	e.checkMatrix(pg, tcp5432, tcp80)
	st, d = e.sync(open)
	t.Logf("removing postgres-netpolicy: %+v in %v", st, d)
	if !st.Removed {
		t.Errorf("Sync(no policy) = %+v, want the table removed", st)
	}
	e.checkMatrix(open, tcp5432, tcp80)
}

// TestPodStartedAfterPolicy starts pods once the policies are in place:
// the Sync that follows the pod's network setup isolates it.
func TestPodStartedAfterPolicy(t *testing.T) {
	e := newPolicyEnv(t)
	pols := netpoltest.SeedPostgres + "---" + netpoltest.SeedEgress
	e.sync(e.engine(pols))
	e.addPod("default", "web2", e.addr(0, 19), map[string]string{"app": "webserver"})
	e.addPod("default", "db2", e.addr(0, 21), map[string]string{"app": "database"}, netpol.ContainerPort{Name: "pg", Protocol: "TCP", Port: 5432})
	e.addPod("default", "intruder", e.addr(0, 35), map[string]string{"app": "intruder"})
	eng := e.engine(pols)
	st, d := e.sync(eng)
	t.Logf("Sync after three pods started: %+v in %v", st, d)
	if st.Created || st.ReadBack || st.ClassesAdded != 0 || st.PeersAdded != 0 || st.ElemsAdded == 0 || st.PodsChanged != 3 {
		t.Errorf("Sync(new pods) = %+v, want only the pod maps (3 entries) and peer set elements changed, from memory", st)
	}
	e.checkMatrix(eng, tcp5432, tcp80)
}

// TestSyncRepairs rebuilds a table that someone changed by hand and
// leaves an up-to-date table alone.
func TestSyncRepairs(t *testing.T) {
	e := newPolicyEnv(t)
	eng := e.engine(netpoltest.SeedPostgres)
	e.sync(eng)
	if st, _ := e.sync(eng); st != (Stats{}) {
		t.Errorf("Sync(unchanged) = %+v, want no change", st)
	}
	if out, err := exec.Command("nft", "flush", "chain", "inet", e.dp.Table(), "forward").CombinedOutput(); err != nil {
		t.Fatalf("nft flush chain: %v: %s", err, out)
	}
	if st, _ := e.sync(eng); !st.Created {
		t.Errorf("Sync(after the forward chain was flushed) = %+v, want the table rebuilt", st)
	}
	e.checkMatrix(eng, tcp5432)
	out, err := exec.Command("nft", "list", "table", "inet", e.dp.Table()).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list table: %v: %s", err, out)
	}
	for _, want := range []string{
		"ct state established,related accept",
		"ip daddr vmap @ingress-pods",
		"ip saddr @peers-",
		"tcp dport 5432 accept",
		fmt.Sprintf("elements = { %s }", netpoltest.Rebase(netip.MustParseAddr("10.0.0.10"), e.prefix)), // default/web
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("nft list table does not show %q:\n%s", want, out)
		}
	}
}

// TestSyncAfterAnotherDataplane syncs one table from two dataplanes, as
// two podsec processes do: each finds the other's generation stamp, reads
// the table back and programs its own policies; with no one else syncing,
// the next Sync works from memory.
func TestSyncAfterAnotherDataplane(t *testing.T) {
	e := newPolicyEnv(t)
	other, err := New(Config{Table: e.dp.Table()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	pg := e.engine(netpoltest.SeedPostgres)
	deny := e.engine(netpoltest.SeedDefaultDeny)
	e.sync(pg)
	if st, _ := e.sync(pg); st.ReadBack {
		t.Errorf("Sync(unchanged, same dataplane) = %+v, want no read back", st)
	}
	st, err := other.Sync(deny.Compile())
	if err != nil {
		t.Fatalf("Sync from another dataplane: %v", err)
	}
	if !st.ReadBack || st.Created {
		t.Errorf("Sync(first of another dataplane) = %+v, want the table read back and updated", st)
	}
	e.checkMatrix(deny, tcp5432, tcp80)
	// e.dp last programmed pg; its memory is stale and must not be used.
	st, _ = e.sync(pg)
	if !st.ReadBack || st.Created || st.ClassesAdded == 0 {
		t.Errorf("Sync(after another dataplane's) = %+v, want the table read back and postgres-netpolicy's class added", st)
	}
	e.checkMatrix(pg, tcp5432, tcp80)
	if st, _ := e.sync(pg); st != (Stats{}) {
		t.Errorf("Sync(unchanged) = %+v, want no change and no read back", st)
	}
}
