package netpol

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Compiled is the policies in the dataplane's form. For each direction,
// every isolated pod (by IP) belongs to a class, and a class is a list of
// matches, any of which allows a connection the pod makes (Egress) or
// accepts (Ingress). A match names a set of peer addresses (Peers) and
// adds a protocol and a port range, so the dataplane holds each peer set
// once, however many pods, policies and ports refer to it: its size is
// the sum of the policies' sizes and of the pods', not their product. A
// pod in no class is open in that direction.
type Compiled struct {
	Ingress, Egress Rules
	// Peers are the peer address sets the classes' matches name, by ID,
	// as sorted disjoint ranges that neither overlap nor touch. An ID is
	// a hash of what selects the addresses (a rule's peers, the policy's
	// namespace where a podSelector alone depends on it, and for a named
	// port of egress the port it resolved to), not of the addresses: it
	// is stable while the policy is, and the dataplane updates a set's
	// elements in place when pods come and go.
	Peers map[string][]AddrRange
}

// Rules is one direction of a Compiled.
type Rules struct {
	// Classes are the matches by class ID. The ID is a hash of the
	// matches, so pods whose policies allow the same connections share a
	// class, and a class's content never changes under its ID: the
	// dataplane adds and deletes classes, and repoints pods.
	Classes map[string][]Match
	// Pods maps each isolated pod's IPv4 address to its class ID.
	Pods map[netip.Addr]string
}

// Match allows connections with a peer in a peer set on a protocol and
// destination port range. For Ingress the peer is the source, for Egress
// the destination.
type Match struct {
	// Peers is the ID of the peer set in Compiled.Peers; empty for every
	// address.
	Peers string
	// Proto is the IP protocol; 0 for every protocol and port.
	Proto uint8
	// PortFrom and PortTo are the destination ports, inclusive: 0-65535
	// for every port of Proto.
	PortFrom, PortTo uint16
}

// AddrRange is an inclusive range of IPv4 addresses.
type AddrRange struct{ From, To netip.Addr }

// Compile turns the policies over the engine's pods into the dataplane's
// form. Only pods with an IPv4 address are classed; IPv6 ipBlocks are not
// carried.
func (e *Engine) Compile() *Compiled {
	cx := e.newCompiler()
	c := &Compiled{Peers: map[string][]AddrRange{}}
	cx.out = c.Peers
	for _, d := range []Direction{Ingress, Egress} {
		rules := Rules{Classes: map[string][]Match{}, Pods: map[netip.Addr]string{}}
		bySelection := map[string]string{} // selection key -> class ID
		var sel []*policy
		for _, pod := range e.pods {
			if _, ok := v4(pod.IP); !ok || !pod.isolatable() {
				continue
			}
			sel = sel[:0]
			for _, p := range cx.ix.policies[pod.Namespace] {
				if p.selects(pod, d) {
					sel = append(sel, p)
				}
			}
			if len(sel) == 0 {
				continue
			}
			key := selectionKey(d, sel, pod)
			id, ok := bySelection[key]
			if !ok {
				ms := cx.matches(d, sel, pod)
				id = matchesID(ms)
				bySelection[key] = id
				rules.Classes[id] = ms
			}
			rules.Pods[pod.IP.Unmap()] = id
		}
		if d == Ingress {
			c.Ingress = rules
		} else {
			c.Egress = rules
		}
	}
	return c
}

// matches are what the selecting policies' rules of a direction allow a
// pod. Named ports resolve on the destination pod: the pod itself for
// Ingress, each peer pod for Egress (never on other addresses).
func (cx *compiler) matches(d Direction, sel []*policy, pod *Pod) []Match {
	var ms []Match
	for _, p := range sel {
		for i := range p.rules[d] {
			r := &p.rules[d][i]
			pc := cx.peers(p, r)
			if pc.none {
				continue
			}
			id := cx.use(pc)
			if len(r.ports) == 0 {
				ms = append(ms, Match{Peers: id})
				continue
			}
			for j := range r.ports {
				pr := &r.ports[j]
				switch {
				case pr.any:
					ms = append(ms, Match{id, pr.protoNum, 0, 65535})
				case pr.namedPort && d == Ingress:
					if n, ok := pod.namedPort(pr.name, pr.proto); ok {
						ms = append(ms, Match{id, pr.protoNum, uint16(n), uint16(n)})
					}
				case pr.namedPort:
					for _, g := range cx.named(pc, pr) {
						ms = append(ms, Match{g.id, pr.protoNum, g.port, g.port})
					}
				default:
					ms = append(ms, Match{id, pr.protoNum, uint16(pr.from), uint16(pr.to)})
				}
			}
		}
	}
	return normalize(ms)
}

// normalize sorts matches and drops or joins redundant ones: those a
// match of every protocol from the same peers covers, and port ranges of
// the same peers and protocol that overlap or touch.
func normalize(ms []Match) []Match {
	if len(ms) == 0 {
		return nil
	}
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(strings.Compare(a.Peers, b.Peers), cmp.Compare(a.Proto, b.Proto),
			cmp.Compare(a.PortFrom, b.PortFrom), cmp.Compare(a.PortTo, b.PortTo))
	})
	if ms[0] == (Match{}) {
		return ms[:1] // every address, protocol and port
	}
	out := ms[:1]
	for _, m := range ms[1:] {
		last := &out[len(out)-1]
		switch {
		case m.Peers == last.Peers && last.Proto == 0:
			continue // sorted first, it covers the peers' other matches
		case m.Peers == last.Peers && m.Proto == last.Proto && uint32(m.PortFrom) <= uint32(last.PortTo)+1:
			last.PortTo = max(last.PortTo, m.PortTo)
			continue
		}
		out = append(out, m)
	}
	return slices.Clip(out)
}

// matchesID is a class's ID: a hash of its matches.
func matchesID(ms []Match) string {
	h := sha256.New()
	var b [5]byte
	for _, m := range ms {
		h.Write([]byte{byte(len(m.Peers))}) // IDs are short; "" is every address
		h.Write([]byte(m.Peers))
		b[0] = m.Proto
		binary.BigEndian.PutUint16(b[1:3], m.PortFrom)
		binary.BigEndian.PutUint16(b[3:5], m.PortTo)
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// selectionKey identifies what makes a pod's class, before computing it:
// the policies selecting it and, for Ingress, those of its named ports
// that the policies' rules name. Pods with the same key have the same
// matches.
func selectionKey(d Direction, sel []*policy, pod *Pod) string {
	var b strings.Builder
	for _, p := range sel {
		b.WriteString(p.key)
		b.WriteByte('|')
	}
	if d == Ingress {
		var named []string
		for _, cp := range pod.Ports {
			if namesPort(sel, cp.Name) {
				named = append(named, fmt.Sprintf("%s/%s=%d", cp.Name, protocolOf(cp.Protocol), cp.Port))
			}
		}
		slices.Sort(named)
		b.WriteString(strings.Join(named, ","))
	}
	return b.String()
}

// namesPort reports whether an ingress rule of the policies names a port.
func namesPort(sel []*policy, name string) bool {
	for _, p := range sel {
		for _, r := range p.rules[Ingress] {
			for _, pr := range r.ports {
				if pr.namedPort && pr.name == name {
					return true
				}
			}
		}
	}
	return false
}
