package netpol

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/policy/netpol/netpoltest"
)

// dataplaneAllows is what the kernel dataplane does with a compiled form
// for a forwarded connection: the source's egress class (if isolated) and
// the destination's ingress class (if isolated) must hold a match for it.
func dataplaneAllows(c *Compiled, src, dst netip.Addr, proto uint8, port uint16) bool {
	in := func(ms []Match, peer netip.Addr) bool {
		for _, m := range ms {
			if m.Proto != 0 && (m.Proto != proto || port < m.PortFrom || port > m.PortTo) {
				continue
			}
			if m.Peers == "" {
				return true
			}
			for _, r := range c.Peers[m.Peers] {
				if r.From.Compare(peer) <= 0 && peer.Compare(r.To) <= 0 {
					return true
				}
			}
		}
		return false
	}
	if id, ok := c.Egress.Pods[src]; ok && !in(c.Egress.Classes[id], dst) {
		return false
	}
	if id, ok := c.Ingress.Pods[dst]; ok && !in(c.Ingress.Classes[id], src) {
		return false
	}
	return true
}

// checkCompiled fails if the compiled form is not what the dataplane can
// load: every match's peer set exists, and holds sorted ranges that
// neither overlap nor touch (the kernel's interval sets refuse overlaps,
// and the dataplane diffs sets range by range).
func checkCompiled(t *testing.T, c *Compiled) {
	t.Helper()
	for _, r := range []Rules{c.Ingress, c.Egress} {
		for id, ms := range r.Classes {
			for _, m := range ms {
				if _, ok := c.Peers[m.Peers]; m.Peers != "" && !ok {
					t.Errorf("class %s: match %+v names a missing peer set", id, m)
				}
			}
		}
	}
	for id, rs := range c.Peers {
		for i, r := range rs {
			if r.To.Less(r.From) || i > 0 && uint64(v4u(r.From)) <= uint64(v4u(rs[i-1].To))+1 {
				t.Errorf("peer set %s: ranges %v not sorted, disjoint and apart", id, rs)
			}
		}
	}
}

func v4u(a netip.Addr) uint32 { u, _ := v4(a); return u }

// TestCompileAgreesWithAllowed checks, for every case's policies, that the
// compiled form decides every forwarded connection between the test pods
// and some outside addresses as Allowed does.
func TestCompileAgreesWithAllowed(t *testing.T) {
	outside := []string{"203.0.113.5", "198.51.100.1", "10.0.0.200", "10.0.1.200", "10.1.0.1"}
	ports := []int32{7, 53, 80, 81, 5432, 5433, 8080, 9100, 31999, 32000, 32500, 32768, 32769}
	protos := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
	for _, tc := range netpoltest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			e, err := New(Input{Namespaces: testNamespaces, Pods: testPods(), Policies: policies(t, tc.Policies)})
			if err != nil {
				t.Fatal(err)
			}
			c := e.Compile()
			checkCompiled(t, c)
			var eps []Endpoint
			for _, p := range e.Pods() {
				if !p.HostNetwork { // the node's traffic is not forwarded
					eps = append(eps, PodEndpoint(p))
				}
			}
			for _, a := range outside {
				eps = append(eps, AddrEndpoint(ip(a)))
			}
			for _, src := range eps {
				for _, dst := range eps {
					if src.Pod == nil && dst.Pod == nil || src.Pod != nil && src.Pod == dst.Pod {
						continue
					}
					for _, proto := range protos {
						for _, port := range ports {
							want := e.Allowed(src, dst, port, proto).Allowed
							got := dataplaneAllows(c, src.IP, dst.IP, protoNumber(proto), uint16(port))
							if got != want {
								t.Errorf("compiled(%s -> %s:%d/%s) = %v, Allowed = %v", src, dst, port, proto, got, want)
							}
						}
					}
				}
			}
		})
	}
}

func TestCompileClassesShared(t *testing.T) {
	e, err := New(Input{Namespaces: testNamespaces, Pods: testPods(), Policies: policies(t, netpoltest.SeedDefaultDeny+"---"+netpoltest.SeedPostgres)})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Compile()
	// web and client share the default-deny class; db has its own.
	web, client, db := c.Ingress.Pods[ip("10.0.0.10")], c.Ingress.Pods[ip("10.0.0.12")], c.Ingress.Pods[ip("10.0.0.11")]
	if web == "" || web != client || db == web {
		t.Errorf("Compile classes: web %q, client %q, db %q; want web == client != db", web, client, db)
	}
	if n := len(c.Ingress.Classes[web]); n != 0 {
		t.Errorf("default-deny class has %d matches, want 0", n)
	}
	ms := c.Ingress.Classes[db]
	if len(ms) != 1 || ms[0].Peers == "" || ms[0].Proto != 6 || ms[0].PortFrom != 5432 || ms[0].PortTo != 5432 {
		t.Fatalf("postgres class = %+v, want one match of a peer set on 5432/TCP", ms)
	}
	want := []AddrRange{{ip("10.0.0.10"), ip("10.0.0.10")}}
	if got := c.Peers[ms[0].Peers]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("postgres peers = %v, want %v", got, want)
	}
	if len(c.Egress.Pods) != 0 {
		t.Errorf("Compile egress pods = %v, want none", c.Egress.Pods)
	}
	if _, ok := c.Ingress.Pods[nodeIP]; ok {
		t.Errorf("hostNetwork pod is classed")
	}
}

// TestCompilePeerSetsStable checks that a peer set keeps its ID when its
// pods change, so that the classes naming it keep theirs: a pod started
// changes set elements, not classes.
func TestCompilePeerSetsStable(t *testing.T) {
	pols := policies(t, netpoltest.SeedDefaultDeny+"---"+netpoltest.SeedPostgres)
	e, err := New(Input{Namespaces: testNamespaces, Pods: testPods(), Policies: pols})
	if err != nil {
		t.Fatal(err)
	}
	before := e.Compile()
	pods := append(testPods(), Pod{Namespace: "default", Name: "web2", Labels: map[string]string{"app": "webserver"}, IP: ip("10.0.0.40")})
	if e, err = New(Input{Namespaces: testNamespaces, Pods: pods, Policies: pols}); err != nil {
		t.Fatal(err)
	}
	after := e.Compile()
	db := ip("10.0.0.11")
	id := before.Ingress.Pods[db]
	if after.Ingress.Pods[db] != id {
		t.Fatalf("Compile(one pod more): db's class %s became %s, want it kept", id, after.Ingress.Pods[db])
	}
	peers := before.Ingress.Classes[id][0].Peers
	want := []AddrRange{{ip("10.0.0.10"), ip("10.0.0.10")}, {ip("10.0.0.40"), ip("10.0.0.40")}}
	if got := after.Peers[peers]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Compile(one pod more): peers %s = %v, want %v", peers, got, want)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want []Match
	}{
		{"empty", nil, nil},
		{"every address", []Match{{"a", 6, 80, 80}, {}, {"b", 0, 0, 0}}, []Match{{}}},
		{"every protocol covers ports", []Match{{"a", 6, 80, 80}, {"a", 0, 0, 0}, {"b", 6, 1, 2}}, []Match{{"a", 0, 0, 0}, {"b", 6, 1, 2}}},
		{"ports join", []Match{{"a", 6, 90, 95}, {"a", 6, 80, 89}, {"a", 17, 96, 96}, {"a", 6, 97, 97}}, []Match{{"a", 6, 80, 95}, {"a", 6, 97, 97}, {"a", 17, 96, 96}}},
		{"duplicates", []Match{{"a", 6, 80, 80}, {"a", 6, 80, 80}}, []Match{{"a", 6, 80, 80}}},
	} {
		if got := normalize(slices.Clone(tc.in)); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: normalize(%v) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestCompareKeys(t *testing.T) {
	pods := []*Pod{
		{Namespace: "a", Name: "x"}, {Namespace: "a-b", Name: "a"}, {Namespace: "a.b", Name: "z"},
		{Namespace: "ab", Name: "a"}, {Namespace: "a", Name: "a"}, {Namespace: "b", Name: ""},
	}
	for _, p := range pods {
		for _, q := range pods {
			if got, want := compareKeys(p, q), strings.Compare(p.Key(), q.Key()); got != want {
				t.Errorf("compareKeys(%s, %s) = %d, want %d", p.Key(), q.Key(), got, want)
			}
		}
	}
}

func TestSelectorCache(t *testing.T) {
	sc := selectorCache{}
	a, err := sc.parse(&metav1.LabelSelector{MatchLabels: map[string]string{"a": "b", "c": "d"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.parse(&metav1.LabelSelector{MatchLabels: map[string]string{"a": "b,c=d"}}); err == nil {
		t.Errorf("parse(a=%q) after parse(a=b,c=d) = nil error, want the invalid value refused", "b,c=d")
	}
	b, err := sc.parse(&metav1.LabelSelector{MatchLabels: map[string]string{"c": "d", "a": "b"}})
	if err != nil || b.String() != a.String() {
		t.Errorf("parse(same labels) = %v, %v; want %v", b, err, a)
	}
}
