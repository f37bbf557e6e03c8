package netpol

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/policy/netpol/netpoltest"
)

// dataplaneAllows is what the kernel dataplane does with a compiled form
// for a forwarded connection: the source's egress class (if isolated) and
// the destination's ingress class (if isolated) must hold a box with it.
func dataplaneAllows(c *Compiled, src, dst netip.Addr, proto uint8, port uint16) bool {
	in := func(boxes []Box, peer netip.Addr) bool {
		for _, b := range boxes {
			if b.AddrFrom.Compare(peer) <= 0 && peer.Compare(b.AddrTo) <= 0 &&
				b.ProtoFrom <= proto && proto <= b.ProtoTo && b.PortFrom <= port && port <= b.PortTo {
				return true
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

// checkDisjoint fails if two boxes of a class overlap: the kernel refuses
// overlapping elements of an interval set of concatenations.
func checkDisjoint(t *testing.T, what string, boxes []Box) {
	t.Helper()
	for i, a := range boxes {
		for _, b := range boxes[i+1:] {
			if a.AddrFrom.Compare(b.AddrTo) <= 0 && b.AddrFrom.Compare(a.AddrTo) <= 0 &&
				a.ProtoFrom <= b.ProtoTo && b.ProtoFrom <= a.ProtoTo && a.PortFrom <= b.PortTo && b.PortFrom <= a.PortTo {
				t.Errorf("%s: boxes %+v and %+v overlap", what, a, b)
			}
		}
	}
}

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
			for id, boxes := range c.Ingress.Classes {
				checkDisjoint(t, "ingress class "+id, boxes)
			}
			for id, boxes := range c.Egress.Classes {
				checkDisjoint(t, "egress class "+id, boxes)
			}
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
		t.Errorf("default-deny class has %d boxes, want 0", n)
	}
	want := []Box{{ip("10.0.0.10"), ip("10.0.0.10"), 6, 6, 5432, 5432}}
	if got := c.Ingress.Classes[db]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("postgres class = %v, want %v", got, want)
	}
	if len(c.Egress.Pods) != 0 {
		t.Errorf("Compile egress pods = %v, want none", c.Egress.Pods)
	}
	if _, ok := c.Ingress.Pods[nodeIP]; ok {
		t.Errorf("hostNetwork pod is classed")
	}
}

// TestDisjointRandom checks disjoint on random overlapping blocks: the
// result covers exactly the same points and has no overlaps.
func TestDisjointRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		groups := map[protoPorts][]addrRange{}
		for range 1 + r.IntN(6) {
			p0 := uint8(r.IntN(4) * 6)
			p1 := p0 + uint8(r.IntN(2)*11)
			q0 := uint16(r.IntN(20))
			q1 := q0 + uint16(r.IntN(10))
			lo := uint32(r.IntN(30))
			k := protoPorts{p0, p1, q0, q1}
			groups[k] = append(groups[k], addrRange{lo, lo + uint32(r.IntN(8))})
		}
		boxes := disjoint(groups)
		checkDisjoint(t, fmt.Sprintf("case %d", n), boxes)
		for p := range 20 {
			for q := range 32 {
				for a := range 40 {
					want := false
					for k, rs := range groups {
						for _, rg := range rs {
							if uint8(p) >= k.p0 && uint8(p) <= k.p1 && uint16(q) >= k.q0 && uint16(q) <= k.q1 && uint32(a) >= rg.lo && uint32(a) <= rg.hi {
								want = true
							}
						}
					}
					got := false
					for _, b := range boxes {
						au, _ := v4(b.AddrFrom)
						bu, _ := v4(b.AddrTo)
						if uint8(p) >= b.ProtoFrom && uint8(p) <= b.ProtoTo && uint16(q) >= b.PortFrom && uint16(q) <= b.PortTo && uint32(a) >= au && uint32(a) <= bu {
							got = true
						}
					}
					if got != want {
						t.Fatalf("case %d: disjoint(%v) covers (%d,%d,%d) = %v, want %v", n, groups, p, q, a, got, want)
					}
				}
			}
		}
	}
}
