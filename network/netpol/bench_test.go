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

// synthetic is a cluster of 50 namespaces of 10 pods each (addresses in
// 10.250.0.0/16, never routed: the benchmark only programs them) and n
// policies of several kinds over them: with 1,000, each pod is selected by
// two policies for ingress, and a quarter of them for egress.
func synthetic(n int) netpol.Input {
	var in netpol.Input
	for ns := range 50 {
		name := fmt.Sprintf("ns%d", ns)
		in.Namespaces = append(in.Namespaces, netpol.Namespace{Name: name, Labels: map[string]string{"tenant": fmt.Sprintf("t%d", ns%5)}})
		for p := range 10 {
			in.Pods = append(in.Pods, netpol.Pod{
				Namespace: name, Name: fmt.Sprintf("p%d", p),
				Labels: map[string]string{"app": fmt.Sprintf("app%d", p), "tier": fmt.Sprintf("tier%d", p%3)},
				IP:     netip.AddrFrom4([4]byte{10, 250, byte(ns), byte(10 + p)}),
				Ports:  []netpol.ContainerPort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: int32(8000 + p)}},
			})
		}
	}
	for i := range n {
		in.Policies = append(in.Policies, syntheticPolicy(i, 0))
	}
	return in
}

// syntheticPolicy is the i-th policy; v varies its ports, for updates.
func syntheticPolicy(i, v int) *networkingv1.NetworkPolicy {
	tcp := corev1.ProtocolTCP
	port := intstr.FromInt32(int32(1000 + i + v))
	end := int32(1000 + i + v + 10)
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns%d", i%50), Name: fmt.Sprintf("pol%d", i)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("app%d", i/50%10)}},
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
		peer.IPBlock = &networkingv1.IPBlock{CIDR: fmt.Sprintf("10.250.%d.0/24", i%50), Except: []string{fmt.Sprintf("10.250.%d.16/30", i%50)}}
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

func countElems(c *netpol.Compiled) (classes, elems int) {
	for _, r := range []netpol.Rules{c.Ingress, c.Egress} {
		classes += len(r.Classes)
		for _, b := range r.Classes {
			elems += len(b)
		}
	}
	return
}

// BenchmarkProgram measures programming 1,000 policies over 500 pods:
// building the engine and compiling, the first Sync into an empty table,
// and the incremental Sync of one changed policy.
func BenchmarkProgram(b *testing.B) {
	requireNode(b)
	in := synthetic(1000)
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			eng, err := netpol.New(in)
			if err != nil {
				b.Fatal(err)
			}
			eng.Compile()
		}
	})
	eng, err := netpol.New(in)
	if err != nil {
		b.Fatal(err)
	}
	compiled := eng.Compile()
	classes, elems := countElems(compiled)
	b.Logf("1000 policies over 500 pods: %d ingress + %d egress isolated pods, %d classes, %d set elements",
		len(compiled.Ingress.Pods), len(compiled.Egress.Pods), classes, elems)
	dp, err := New(Config{Table: fmt.Sprintf("podsec-netpol-bench-%d", time.Now().UnixNano()%1e6)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dp.Remove() })
	b.Run("first-sync", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if err := dp.Remove(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := dp.Sync(compiled); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("incremental-one-policy", func(b *testing.B) {
		if _, err := dp.Sync(compiled); err != nil {
			b.Fatal(err)
		}
		v := 0
		var st Stats
		for b.Loop() {
			// Compiling is measured above; this is the dataplane's part:
			// reading the table, diffing and one transaction.
			b.StopTimer()
			v++
			in.Policies[123] = syntheticPolicy(123, v%2*7)
			e, err := netpol.New(in)
			if err != nil {
				b.Fatal(err)
			}
			c := e.Compile()
			b.StartTimer()
			if st, err = dp.Sync(c); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("last incremental Sync: %+v", st)
	})
}

// BenchmarkConnect measures TCP connect and close between two pods with no
// policy, and with 1,000 policies (over 500 other pods, plus the two pods
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
				c.Close()
			}
			return nil
		}); err != nil {
			b.Fatalf("connecting to %s: %v", addr, err)
		}
	}
	b.Run("policies=0", loop)
	syn := synthetic(1000)
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
