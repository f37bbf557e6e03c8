package netpol

import (
	"net/netip"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/policy/netpol/netpoltest"
)

// policies parses and validates NetworkPolicies from YAML documents
// separated by "---".
func policies(tb testing.TB, docs string) []*networkingv1.NetworkPolicy {
	tb.Helper()
	out := netpoltest.ParsePolicies(tb, docs)
	for _, np := range out {
		if errs := ValidatePolicy(np); len(errs) > 0 {
			tb.Fatalf("ValidatePolicy(%s) = %v", np.Name, errs.ToAggregate())
		}
	}
	return out
}

// The synthetic cluster of the shared cases (netpoltest).
var (
	testNamespaces = namespaces()
	nodeIP         = netpoltest.NodeIP
)

func namespaces() []Namespace {
	var out []Namespace
	for _, n := range netpoltest.Namespaces() {
		out = append(out, Namespace{Name: n.Name, Labels: n.Labels})
	}
	return out
}

func testPods() []Pod {
	var out []Pod
	for _, p := range netpoltest.Pods() {
		pod := Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: p.IP, HostNetwork: p.HostNetwork}
		for _, cp := range p.Ports {
			pod.Ports = append(pod.Ports, ContainerPort{Name: cp.Name, Protocol: cp.Protocol, Port: cp.Port})
		}
		out = append(out, pod)
	}
	return out
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
