package netpol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Compiled is the policies in the dataplane's form. For each direction,
// every isolated pod (by IP) belongs to a class, and a class is the
// disjoint boxes of connections its pods may make (Egress) or accept
// (Ingress). Pods that the same policies select (and, for Ingress, with
// the same named ports) share a class, so the dataplane holds each
// allowed set once however many pods it applies to. A pod in no class is
// open in that direction.
type Compiled struct {
	Ingress, Egress Rules
}

// Rules is one direction of a Compiled.
type Rules struct {
	// Classes are the allowed boxes by class ID. The ID is a hash of what
	// makes the class (the selecting policies' names and, for Ingress, the
	// pods' named ports), so it is stable across runs while those do not
	// change, and the dataplane updates a class's boxes in place when a
	// policy's rules or the peers' pods change.
	Classes map[string][]Box
	// Pods maps each isolated pod's IPv4 address to its class ID.
	Pods map[netip.Addr]string
}

// ruleCache is what a rule allows independently of the isolated pod: its
// peers' addresses, and the pods among them for named ports.
type ruleCache struct {
	addrs []addrRange // merged; every address when the rule has no peers
	pods  []*Pod      // pods with an IPv4 address that a peer matches
}

// Compile turns the policies over the engine's pods into the dataplane's
// form. Only pods with an IPv4 address are classed; IPv6 ipBlocks are not
// carried.
func (e *Engine) Compile() *Compiled {
	cache := map[*rule]*ruleCache{}
	get := func(p *policy, r *rule) *ruleCache {
		if c := cache[r]; c != nil {
			return c
		}
		c := e.ruleCache(p, r)
		cache[r] = c
		return c
	}
	c := &Compiled{}
	for _, d := range []Direction{Ingress, Egress} {
		rules := Rules{Classes: map[string][]Box{}, Pods: map[netip.Addr]string{}}
		for _, pod := range e.pods {
			if _, ok := v4(pod.IP); !ok || !pod.isolatable() {
				continue
			}
			var sel []*policy
			for _, p := range e.policies {
				if p.selects(pod, d) {
					sel = append(sel, p)
				}
			}
			if len(sel) == 0 {
				continue
			}
			id := classID(d, sel, pod)
			rules.Pods[pod.IP.Unmap()] = id
			if _, ok := rules.Classes[id]; ok {
				continue
			}
			groups := map[protoPorts][]addrRange{}
			for _, p := range sel {
				for i := range p.rules[d] {
					r := &p.rules[d][i]
					addBoxes(groups, d, r, get(p, r), pod)
				}
			}
			rules.Classes[id] = disjoint(groups)
		}
		if d == Ingress {
			c.Ingress = rules
		} else {
			c.Egress = rules
		}
	}
	return c
}

// classID names the class of a pod: the policies selecting it and, for
// Ingress, those of its named ports that the policies' rules name.
func classID(d Direction, sel []*policy, pod *Pod) string {
	var b strings.Builder
	b.WriteString(d.String())
	for _, p := range sel {
		b.WriteString("|" + p.key)
	}
	if d == Ingress {
		used := map[string]bool{}
		for _, p := range sel {
			for _, r := range p.rules[Ingress] {
				for _, pr := range r.ports {
					if pr.namedPort {
						used[pr.name] = true
					}
				}
			}
		}
		var named []string
		for _, cp := range pod.Ports {
			if used[cp.Name] {
				named = append(named, fmt.Sprintf("%s/%s=%d", cp.Name, protocolOf(cp.Protocol), cp.Port))
			}
		}
		slices.Sort(named)
		b.WriteString("|" + strings.Join(named, ","))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

func (e *Engine) ruleCache(p *policy, r *rule) *ruleCache {
	c := &ruleCache{}
	if len(r.peers) == 0 {
		c.addrs = []addrRange{{0, ^uint32(0)}}
	}
	for i := range r.peers {
		if b := r.peers[i].block; b != nil {
			c.addrs = append(c.addrs, blockRanges(b)...)
		}
	}
	for _, q := range e.pods {
		ip, ok := v4(q.IP)
		if !ok || !q.isolatable() {
			continue
		}
		ep := PodEndpoint(q)
		matched := len(r.peers) == 0
		for i := range r.peers {
			if matched = e.peerMatches(&r.peers[i], p.namespace, ep); matched {
				break
			}
		}
		if matched {
			c.pods = append(c.pods, q)
			if len(r.peers) > 0 {
				c.addrs = append(c.addrs, addrRange{ip, ip})
			}
		}
	}
	c.addrs = mergeRanges(c.addrs)
	return c
}

// addBoxes adds what one rule allows the pod to groups. Named ports
// resolve on the destination pod: the isolated pod itself for Ingress,
// each peer pod for Egress (never on other addresses).
func addBoxes(groups map[protoPorts][]addrRange, d Direction, r *rule, c *ruleCache, pod *Pod) {
	if len(r.ports) == 0 {
		groups[allProtoPorts] = append(groups[allProtoPorts], c.addrs...)
		return
	}
	for i := range r.ports {
		pr := &r.ports[i]
		pp := protoPorts{p0: pr.protoNum, p1: pr.protoNum}
		switch {
		case pr.any:
			pp.q0, pp.q1 = 0, 65535
		case pr.namedPort && d == Ingress:
			n, ok := pod.namedPort(pr.name, pr.proto)
			if !ok {
				continue
			}
			pp.q0, pp.q1 = uint16(n), uint16(n)
		case pr.namedPort:
			for _, q := range c.pods {
				if n, ok := q.namedPort(pr.name, pr.proto); ok {
					ip, _ := v4(q.IP)
					k := protoPorts{pr.protoNum, pr.protoNum, uint16(n), uint16(n)}
					groups[k] = append(groups[k], addrRange{ip, ip})
				}
			}
			continue
		default:
			pp.q0, pp.q1 = uint16(pr.from), uint16(pr.to)
		}
		groups[pp] = append(groups[pp], c.addrs...)
	}
}
