package netpol

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// policies parses NetworkPolicies from YAML documents separated by "---".
func policies(tb testing.TB, docs string) []*networkingv1.NetworkPolicy {
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
		if errs := ValidatePolicy(np); len(errs) > 0 {
			tb.Fatalf("ValidatePolicy(%s) = %v", np.Name, errs.ToAggregate())
		}
		out = append(out, np)
	}
	return out
}

// The synthetic cluster of the engine's tests.
var (
	testNamespaces = []Namespace{
		{Name: "default"},
		{Name: "shop", Labels: map[string]string{"tenant": "manning"}},
		{Name: "other", Labels: map[string]string{"tenant": "acme"}},
		{Name: "x", Labels: map[string]string{"team": "a", "env": "prod"}},
		{Name: "y", Labels: map[string]string{"team": "b", "env": "dev"}},
	}
	nodeIP = netip.MustParseAddr("10.0.0.1")
)

func testPods() []Pod {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	return []Pod{
		{Namespace: "default", Name: "web", Labels: map[string]string{"app": "webserver"}, IP: ip("10.0.0.10"),
			Ports: []ContainerPort{{Name: "http", Protocol: tcp, Port: 80}}},
		{Namespace: "default", Name: "db", Labels: map[string]string{"app": "database"}, IP: ip("10.0.0.11"),
			Ports: []ContainerPort{{Name: "pg", Protocol: tcp, Port: 5432}, {Name: "dns", Protocol: udp, Port: 53}, {Name: "metrics", Port: 9100}}},
		{Namespace: "default", Name: "client", Labels: map[string]string{"app": "client"}, IP: ip("10.0.0.12")},
		{Namespace: "shop", Name: "cart", Labels: map[string]string{"app": "shopping-cart"}, IP: ip("10.0.1.10"),
			Ports: []ContainerPort{{Name: "http", Protocol: tcp, Port: 8080}}},
		{Namespace: "shop", Name: "buyer", Labels: map[string]string{"app": "buyer"}, IP: ip("10.0.1.11")},
		{Namespace: "other", Name: "cart", Labels: map[string]string{"app": "shopping-cart"}, IP: ip("10.0.2.10")},
		{Namespace: "other", Name: "buyer", Labels: map[string]string{"app": "buyer"}, IP: ip("10.0.2.11")},
		{Namespace: "x", Name: "a", Labels: map[string]string{"app": "a", "tier": "front"}, IP: ip("10.0.3.10")},
		{Namespace: "x", Name: "b", Labels: map[string]string{"app": "b", "tier": "back"}, IP: ip("10.0.3.11")},
		{Namespace: "y", Name: "a", Labels: map[string]string{"app": "a", "tier": "front"}, IP: ip("10.0.4.10")},
		{Namespace: "y", Name: "b", Labels: map[string]string{"app": "b"}, IP: ip("10.0.4.11"),
			Ports: []ContainerPort{{Name: "http", Protocol: tcp, Port: 81}}},
		{Namespace: "default", Name: "hostnet", Labels: map[string]string{"app": "webserver"}, IP: nodeIP, HostNetwork: true},
	}
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// findPod finds a pod by "namespace/name".
func findPod(tb testing.TB, e *Engine, key string) *Pod {
	tb.Helper()
	for _, p := range e.Pods() {
		if p.Key() == key {
			return p
		}
	}
	tb.Fatalf("no pod %s", key)
	return nil
}

// endpoint resolves a test's endpoint name: "ns/name" for a pod, "node",
// or an address.
func endpoint(tb testing.TB, e *Engine, s string) Endpoint {
	tb.Helper()
	switch {
	case s == "node":
		return NodeEndpoint(nodeIP)
	case strings.Contains(s, "/"):
		return PodEndpoint(findPod(tb, e, s))
	default:
		return AddrEndpoint(ip(s))
	}
}

// policiesNoValidate parses policies without validating them.
func policiesNoValidate(tb testing.TB, docs string) []*networkingv1.NetworkPolicy {
	tb.Helper()
	var out []*networkingv1.NetworkPolicy
	for _, doc := range strings.Split(docs, "\n---\n") {
		np := &networkingv1.NetworkPolicy{}
		if err := yaml.UnmarshalStrict([]byte(doc), np); err != nil {
			tb.Fatalf("decoding policy: %v", err)
		}
		out = append(out, np)
	}
	return out
}
