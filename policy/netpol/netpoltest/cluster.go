// Package netpoltest is the one table of NetworkPolicy cases and the one
// synthetic cluster they are written for. The verdict engine's tests
// (policy/netpol) check each connection's verdict and reason; the
// dataplane's tests (network/netpol) build the same cluster out of network
// namespaces, program the same policies into nftables and probe the pods
// for real. A policy is written once, and engine and dataplane are held to
// the same answers.
//
// Addresses are in 10.0.0.0/16, the node at 10.0.0.1; the dataplane moves
// the whole cluster, policies included, to a /16 of its own (Rebase).
package netpoltest

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// Namespace is a namespace of the cluster.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Port is a container port of a pod, by name.
type Port struct {
	Name     string
	Protocol corev1.Protocol
	Port     int32
}

// Pod is a pod of the cluster. The package has its own types so that the
// engine's own tests, inside package netpol, can import it.
type Pod struct {
	Namespace, Name string
	Labels          map[string]string
	IP              netip.Addr
	Ports           []Port
	HostNetwork     bool
}

// Net is the cluster's network as written in Cases; NodeIP the node's
// address in it.
var (
	Net    = netip.MustParsePrefix("10.0.0.0/16")
	NodeIP = netip.MustParseAddr("10.0.0.1")
)

// Namespaces are the cluster's namespaces and their labels.
func Namespaces() []Namespace {
	return []Namespace{
		{Name: "default"},
		{Name: "shop", Labels: map[string]string{"tenant": "manning"}},
		{Name: "other", Labels: map[string]string{"tenant": "acme"}},
		{Name: "x", Labels: map[string]string{"team": "a", "env": "prod"}},
		{Name: "y", Labels: map[string]string{"team": "b", "env": "dev"}},
	}
}

// Pods are the cluster's pods; default/hostnet is a hostNetwork pod, at
// the node's address.
func Pods() []Pod {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	ip := netip.MustParseAddr
	return []Pod{
		{Namespace: "default", Name: "web", Labels: map[string]string{"app": "webserver"}, IP: ip("10.0.0.10"),
			Ports: []Port{{Name: "http", Protocol: tcp, Port: 80}}},
		{Namespace: "default", Name: "db", Labels: map[string]string{"app": "database"}, IP: ip("10.0.0.11"),
			Ports: []Port{{Name: "pg", Protocol: tcp, Port: 5432}, {Name: "dns", Protocol: udp, Port: 53}, {Name: "metrics", Port: 9100}}},
		{Namespace: "default", Name: "client", Labels: map[string]string{"app": "client"}, IP: ip("10.0.0.12")},
		{Namespace: "shop", Name: "cart", Labels: map[string]string{"app": "shopping-cart"}, IP: ip("10.0.1.10"),
			Ports: []Port{{Name: "http", Protocol: tcp, Port: 8080}}},
		{Namespace: "shop", Name: "buyer", Labels: map[string]string{"app": "buyer"}, IP: ip("10.0.1.11")},
		{Namespace: "other", Name: "cart", Labels: map[string]string{"app": "shopping-cart"}, IP: ip("10.0.2.10")},
		{Namespace: "other", Name: "buyer", Labels: map[string]string{"app": "buyer"}, IP: ip("10.0.2.11")},
		{Namespace: "x", Name: "a", Labels: map[string]string{"app": "a", "tier": "front"}, IP: ip("10.0.3.10")},
		{Namespace: "x", Name: "b", Labels: map[string]string{"app": "b", "tier": "back"}, IP: ip("10.0.3.11")},
		{Namespace: "y", Name: "a", Labels: map[string]string{"app": "a", "tier": "front"}, IP: ip("10.0.4.10")},
		{Namespace: "y", Name: "b", Labels: map[string]string{"app": "b"}, IP: ip("10.0.4.11"),
			Ports: []Port{{Name: "http", Protocol: tcp, Port: 81}}},
		{Namespace: "default", Name: "hostnet", Labels: map[string]string{"app": "webserver"}, IP: NodeIP, HostNetwork: true},
	}
}

// Rebase moves an address of Net into to (a /16), keeping its last two
// octets.
func Rebase(a netip.Addr, to netip.Prefix) netip.Addr {
	if !Net.Contains(a) {
		return a
	}
	b, t := a.As4(), to.Addr().As4()
	return netip.AddrFrom4([4]byte{t[0], t[1], b[2], b[3]})
}

// RebasePolicies rewrites the addresses of Net in policies into to (a /16).
func RebasePolicies(policies string, to netip.Prefix) string {
	t := to.Addr().As4()
	return strings.ReplaceAll(policies, "10.0.", fmt.Sprintf("%d.%d.", t[0], t[1]))
}

// ParsePolicies decodes NetworkPolicies from YAML documents separated by
// "---"; the caller validates them.
func ParsePolicies(tb testing.TB, docs string) []*networkingv1.NetworkPolicy {
	tb.Helper()
	var out []*networkingv1.NetworkPolicy
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		np := &networkingv1.NetworkPolicy{}
		if err := yaml.UnmarshalStrict([]byte(doc), np); err != nil {
			tb.Fatalf("decoding policy %q: %v", doc, err)
		}
		out = append(out, np)
	}
	return out
}

// Probe is a destination port and protocol every pair of pods is probed
// on.
type Probe struct {
	Port  int32
	Proto corev1.Protocol
}

// Probes are the ports a case's connections name, TCP and UDP only (the
// dataplane's probe speaks no SCTP), in order of first appearance; TCP 80
// when there is none.
func Probes(c Case) []Probe {
	var out []Probe
	seen := map[Probe]bool{}
	for _, cn := range c.Conns {
		p := Probe{Port: cn.Port, Proto: cn.Proto}
		if (p.Proto == corev1.ProtocolTCP || p.Proto == corev1.ProtocolUDP) && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = append(out, Probe{Port: 80, Proto: corev1.ProtocolTCP})
	}
	return out
}
