package netpol

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podsec/podsec/internal/netnstest"
	"github.com/podsec/podsec/policy/netpol"
)

// synthetic is a cluster of nsCount namespaces of 10 pods each (addresses
// in 10.240.0.0/12, a /24 per namespace, outside the tests' own /16s and
// never routed: the benchmarks only program them) and n policies of
// several kinds over them. With 20
// policies per namespace (1,000 over 50, 10,000 over 500), each pod is
// selected by two policies for ingress, and a quarter of them for egress.
func synthetic(nsCount, n int) netpol.Input {
	var in netpol.Input
	for ns := range nsCount {
		name := fmt.Sprintf("ns%d", ns)
		in.Namespaces = append(in.Namespaces, netpol.Namespace{Name: name, Labels: map[string]string{"tenant": fmt.Sprintf("t%d", ns%5)}})
		for p := range 10 {
			in.Pods = append(in.Pods, netpol.Pod{
				Namespace: name, Name: fmt.Sprintf("p%d", p),
				Labels: map[string]string{"app": fmt.Sprintf("app%d", p), "tier": fmt.Sprintf("tier%d", p%3)},
				IP:     syntheticAddr(ns, 10+p),
				Ports:  []netpol.ContainerPort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: int32(8000 + p)}},
			})
		}
	}
	for i := range n {
		in.Policies = append(in.Policies, syntheticPolicy(nsCount, i, 0))
	}
	return in
}

// syntheticAddr is the address of host h in the /24 of namespace ns.
func syntheticAddr(ns, h int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(240 + ns>>8), byte(ns), byte(h)})
}

// syntheticPolicy is the i-th policy; v varies its ports, for updates.
func syntheticPolicy(nsCount, i, v int) *networkingv1.NetworkPolicy {
	tcp := corev1.ProtocolTCP
	port := intstr.FromInt32(int32(1000 + i + v))
	end := int32(1000 + i + v + 10)
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns%d", i%nsCount), Name: fmt.Sprintf("pol%d", i)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("app%d", i/nsCount%10)}},
		},
	}
	var peer networkingv1.NetworkPolicyPeer
	switch i % 4 {
	case 0: // pods of the namespace
		peer.PodSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": fmt.Sprintf("tier%d", i%3)}}
	case 1: // pods of a tenant's namespaces
		peer.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tenant": fmt.Sprintf("t%d", i%5)}}
		peer.PodSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("app%d", (i+1)%10)}}
	case 2: // an address block with a hole
		net := syntheticAddr(i%nsCount, 0)
		peer.IPBlock = &networkingv1.IPBlock{CIDR: netip.PrefixFrom(net, 24).String(), Except: []string{netip.PrefixFrom(syntheticAddr(i%nsCount, 16), 30).String()}}
	case 3: // a tenant's namespaces, named port
		peer.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tenant": fmt.Sprintf("t%d", i%5)}}
		np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{
			To:    []networkingv1.NetworkPolicyPeer{peer},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &intstr.IntOrString{Type: intstr.String, StrVal: "http"}}},
		}}
	}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{peer},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port, EndPort: &end}},
	}}
	return np
}

// size is what the table holds for a compiled form: class chains, their
// rules (one a match), peer sets and their address ranges.
func size(c *netpol.Compiled) (classes, rules, peers, ranges int) {
	for _, r := range []netpol.Rules{c.Ingress, c.Egress} {
		classes += len(r.Classes)
		for _, ms := range r.Classes {
			rules += len(ms)
		}
	}
	for _, rs := range c.Peers {
		ranges += len(rs)
	}
	return classes, rules, len(c.Peers), ranges
}

// BenchmarkProgram measures programming policies over the synthetic
// cluster, at 1,000 policies over 500 pods and at 10,000 over 5,000:
// building the engine and compiling; the first Sync into an empty table;
// both together (a node's first programming); the incremental Sync of one
// changed policy and of one pod started or stopped, by a dataplane that
// synced before; and the same policy change by a new dataplane (a new
// podsec process), which reads the table once.
func BenchmarkProgram(b *testing.B) {
	requireNode(b)
	for _, sz := range []struct{ ns, policies int }{{50, 1000}, {500, 10000}} {
		b.Run(fmt.Sprintf("policies=%d/pods=%d", sz.policies, sz.ns*10), func(b *testing.B) {
			benchProgram(b, sz.ns, sz.policies)
		})
	}
}

func benchProgram(b *testing.B, nsCount, n int) {
	in := synthetic(nsCount, n)
	compile := func(b *testing.B) *netpol.Compiled {
		eng, err := netpol.New(in)
		if err != nil {
			b.Fatal(err)
		}
		return eng.Compile()
	}
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			compile(b)
		}
	})
	compiled := compile(b)
	classes, rules, peers, ranges := size(compiled)
	b.Logf("%d policies over %d pods: %d ingress + %d egress isolated pods, %d classes with %d rules, %d peer sets with %d ranges",
		n, len(in.Pods), len(compiled.Ingress.Pods), len(compiled.Egress.Pods), classes, rules, peers, ranges)
	table := "podsec-netpol-bench-" + netnstest.RandomID(3)
	// Dataplanes keep their netlink connection; a process's exit closes
	// it, off the Sync's path. So do the benchmarks, at cleanup.
	newDP := func(b *testing.B) *Dataplane {
		dp, err := New(Config{Table: table})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { dp.Close() })
		return dp
	}
	dp := newDP(b)
	b.Cleanup(func() {
		if err := dp.Remove(); err != nil {
			b.Error(err)
		}
	})
	sync := func(b *testing.B, dp *Dataplane, c *netpol.Compiled) Stats {
		st, err := dp.Sync(c)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	b.Run("first-sync", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if err := dp.Remove(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			sync(b, newDP(b), compiled)
		}
	})
	b.Run("compile+first-sync", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if err := dp.Remove(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			sync(b, newDP(b), compile(b))
		}
	})
	// The changed policy, compiled beforehand: compiling is measured
	// above; what follows is the dataplane's part.
	const changed = 123
	orig := in.Policies[changed]
	in.Policies[changed] = syntheticPolicy(nsCount, changed, 7)
	compiledChanged := compile(b)
	in.Policies[changed] = orig
	// One pod more, the first pod's twin, then gone again.
	in.Pods = append(in.Pods, in.Pods[0])
	in.Pods[len(in.Pods)-1].Name, in.Pods[len(in.Pods)-1].IP = "extra", syntheticAddr(0, 100)
	compiledPod := compile(b)
	in.Pods = in.Pods[:len(in.Pods)-1]
	alternate := func(b *testing.B, dp func() *Dataplane, other *netpol.Compiled) {
		sync(b, dp(), compiled)
		var st Stats
		for i := 0; b.Loop(); i++ {
			c := compiled
			if i%2 == 0 {
				c = other
			}
			st = sync(b, dp(), c)
		}
		b.Logf("last Sync: %+v", st)
	}
	same := func() *Dataplane { return dp }
	b.Run("incremental-one-policy", func(b *testing.B) { alternate(b, same, compiledChanged) })
	b.Run("incremental-one-pod", func(b *testing.B) { alternate(b, same, compiledPod) })
	b.Run("new-process-one-policy", func(b *testing.B) {
		alternate(b, func() *Dataplane { return newDP(b) }, compiledChanged)
	})
}

// BenchmarkConnect measures TCP connect and close (a reset) between two
// pods with no policy, and with 1,000 policies (over 500 other pods, plus the two pods
// isolated both ways by policies that allow the connection).
func BenchmarkConnect(b *testing.B) {
	e := newEnv(b)
	e.ns = []netpol.Namespace{{Name: "bench"}}
	client := e.addPod("bench", "client", e.addr(0, 10), map[string]string{"app": "client"})
	server := e.addPod("bench", "server", e.addr(0, 11), map[string]string{"app": "server"}, netpol.ContainerPort{Name: "http", Protocol: "TCP", Port: 80})
	allow := `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server, namespace: bench}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
    ports:
    - port: http
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client, namespace: bench}
spec:
  podSelector: {matchLabels: {app: client}}
  egress:
  - to:
    - namespaceSelector: {}
      podSelector: {matchLabels: {app: server}}
    ports:
    - port: 80
`
	addr := net.JoinHostPort(server.IP.String(), "80")
	loop := func(b *testing.B) {
		if err := netnstest.Do(client.netns, func() error {
			for b.Loop() {
				c, err := net.DialTimeout("tcp4", addr, time.Second)
				if err != nil {
					return err
				}
				// A reset, not a FIN: closed connections would otherwise
				// hold their ports in TIME_WAIT, and once most ephemeral
				// ports are held, connect spends milliseconds finding one,
				// whatever the policies (later runs measured that).
				if err := c.(*net.TCPConn).SetLinger(0); err != nil {
					return err
				}
				c.Close()
			}
			return nil
		}); err != nil {
			b.Fatalf("connecting to %s: %v", addr, err)
		}
	}
	b.Run("policies=0", loop)
	syn := synthetic(50, 1000)
	in := netpol.Input{Namespaces: append(syn.Namespaces, e.ns...), Pods: syn.Pods, Policies: append(syn.Policies, parsePolicies(b, allow)...)}
	in.Pods = append(in.Pods, client.Pod, server.Pod)
	eng, err := netpol.New(in)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.dp.Sync(eng.Compile()); err != nil {
		b.Fatal(err)
	}
	b.Run("policies=1000", loop)
}
