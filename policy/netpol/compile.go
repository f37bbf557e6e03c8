package netpol

import (
	"cmp"
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
	ix := e.index()
	cache := map[*rule]*ruleCache{}
	get := func(p *policy, r *rule) *ruleCache {
		if c := cache[r]; c != nil {
			return c
		}
		c := e.ruleCache(ix, p, r)
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
			for _, p := range ix.policies[pod.Namespace] {
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

// index is the engine's pods and policies by namespace, each in the
// engine's order: a policy selects only pods of its namespace, and a
// selector peer matches only pods of the policy's namespace or of the
// namespaces its namespaceSelector picks. Compile looks there instead of
// at every pod and policy, which at 10,000 policies and 5,000 pods is the
// difference between seconds and milliseconds.
type index struct {
	policies   map[string][]*policy
	pods       map[string][]*Pod
	namespaces []string // of the pods, in the pods' order (sorted)
	byAddr     []*Pod   // pods with an IPv4 address, by address
}

func (e *Engine) index() *index {
	ix := &index{policies: map[string][]*policy{}, pods: map[string][]*Pod{}}
	for _, p := range e.policies {
		ix.policies[p.namespace] = append(ix.policies[p.namespace], p)
	}
	for _, q := range e.pods {
		if len(ix.pods[q.Namespace]) == 0 {
			ix.namespaces = append(ix.namespaces, q.Namespace)
		}
		ix.pods[q.Namespace] = append(ix.pods[q.Namespace], q)
		if _, ok := v4(q.IP); ok {
			ix.byAddr = append(ix.byAddr, q)
		}
	}
	slices.SortStableFunc(ix.byAddr, func(a, b *Pod) int { return a.IP.Unmap().Compare(b.IP.Unmap()) })
	return ix
}

// inRange appends the pods whose address is in r.
func (ix *index) inRange(out []*Pod, r addrRange) []*Pod {
	i, _ := slices.BinarySearchFunc(ix.byAddr, r.lo, func(q *Pod, lo uint32) int {
		a, _ := v4(q.IP)
		return cmp.Compare(a, lo)
	})
	for ; i < len(ix.byAddr); i++ {
		if a, _ := v4(ix.byAddr[i].IP); a > r.hi {
			break
		}
		out = append(out, ix.byAddr[i])
	}
	return out
}

// candidates are the pods a rule's peers may match: every pod when the
// rule has no peers; else the pods of the namespaces its selector peers
// reach and those whose address is in its ipBlocks, each once.
func (e *Engine) candidates(ix *index, p *policy, r *rule) (out []*Pod) {
	if len(r.peers) == 0 {
		return e.pods
	}
	for i := range r.peers {
		if b := r.peers[i].block; b != nil {
			for _, ar := range blockRanges(b) {
				out = ix.inRange(out, ar)
			}
		}
	}
	byBlock := len(out)
	defer func() {
		if byBlock > 0 {
			seen := map[*Pod]bool{}
			out = slices.DeleteFunc(out, func(q *Pod) bool {
				dup := seen[q]
				seen[q] = true
				return dup
			})
		}
	}()
	for _, ns := range ix.namespaces {
		for i := range r.peers {
			pe := &r.peers[i]
			if pe.pods == nil && pe.namespaces == nil {
				continue
			}
			if pe.namespaces == nil && ns == p.namespace || pe.namespaces != nil && pe.namespaces.Matches(e.namespaceLabels(ns)) {
				out = append(out, ix.pods[ns]...)
				break
			}
		}
	}
	return out
}

func (e *Engine) ruleCache(ix *index, p *policy, r *rule) *ruleCache {
	c := &ruleCache{}
	if len(r.peers) == 0 {
		c.addrs = []addrRange{{0, ^uint32(0)}}
	}
	for i := range r.peers {
		if b := r.peers[i].block; b != nil {
			c.addrs = append(c.addrs, blockRanges(b)...)
		}
	}
	for _, q := range e.candidates(ix, p, r) {
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
