package netpol

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// index is the engine's pods and policies by namespace, each in the
// engine's order: a policy selects only pods of its namespace, and a
// selector peer matches only pods of the policy's namespace or of the
// namespaces its namespaceSelector picks. Compile looks there instead of
// at every pod and policy.
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

// compiler is one Compile's state: the peer sets computed so far, by what
// selects them, so that rules with the same peers (in the same namespace,
// where that matters) are computed once.
type compiler struct {
	e       *Engine
	ix      *index
	byKey   map[string]*peerSet
	nsSel   map[string][]string // namespaceSelector -> namespaces with pods it selects
	out     map[string][]AddrRange
	scratch []*Pod
}

// peerSet is what a rule's peers match: addresses, and the pods among them
// for named ports.
type peerSet struct {
	key    string // peerKey
	id     string // "" for every address
	none   bool   // no address at all: the rule allows nothing
	addrs  []addrRange
	pods   []*Pod // isolatable pods with an IPv4 address that a peer matches
	named  map[string][]namedGroup
	public bool // in the Compiled's Peers
}

// namedGroup is the peers on which a named port resolves to one port.
type namedGroup struct {
	port uint16
	id   string
}

func (e *Engine) newCompiler() *compiler {
	return &compiler{e: e, ix: e.index(), byKey: map[string]*peerSet{}, nsSel: map[string][]string{}}
}

// peerKey identifies a rule's peers: their descriptions, with the policy's
// namespace where a podSelector alone depends on it.
func peerKey(p *policy, r *rule) string {
	if len(r.peers) == 0 {
		return ""
	}
	keys := make([]string, len(r.peers))
	for i := range r.peers {
		pe := &r.peers[i]
		keys[i] = pe.desc
		if pe.block == nil && pe.namespaces == nil && pe.pods != nil {
			keys[i] = "in " + p.namespace + ": " + pe.desc
		}
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), "\n")
}

func hashID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// peers is what a rule's peers match.
func (cx *compiler) peers(p *policy, r *rule) *peerSet {
	key := peerKey(p, r)
	if ps := cx.byKey[key]; ps != nil {
		return ps
	}
	ps := &peerSet{key: key}
	cx.byKey[key] = ps
	if len(r.peers) == 0 {
		ps.addrs = []addrRange{{0, ^uint32(0)}}
		for _, q := range cx.ix.byAddr {
			if q.isolatable() {
				ps.pods = append(ps.pods, q)
			}
		}
		return ps
	}
	pods := cx.scratch[:0]
	for i := range r.peers {
		pe := &r.peers[i]
		switch {
		case pe.block != nil:
			for _, ar := range blockRanges(pe.block) {
				ps.addrs = append(ps.addrs, ar)
				pods = cx.ix.inRange(pods, ar)
			}
		case pe.pods == nil && pe.namespaces == nil:
			// An empty peer matches nothing.
		case pe.namespaces == nil:
			pods = cx.selectPods(pods, pe.pods, p.namespace)
		default:
			for _, ns := range cx.namespaces(pe.namespaces) {
				pods = cx.selectPods(pods, pe.pods, ns)
			}
		}
	}
	var seen map[*Pod]bool
	if len(r.peers) > 1 {
		seen = map[*Pod]bool{}
	}
	for _, q := range pods {
		ip, ok := v4(q.IP)
		if !ok || !q.isolatable() || seen[q] {
			continue
		}
		if seen != nil {
			seen[q] = true
		}
		ps.pods = append(ps.pods, q)
		ps.addrs = append(ps.addrs, addrRange{ip, ip})
	}
	cx.scratch = pods[:0]
	ps.addrs = mergeRanges(ps.addrs)
	switch {
	case len(ps.addrs) == 0:
		ps.none = true
	case len(ps.addrs) == 1 && ps.addrs[0] == addrRange{0, ^uint32(0)}:
	default:
		ps.id = hashID(key)
	}
	return ps
}

// selectPods appends the pods of a namespace that a pod selector (nil: all)
// selects.
func (cx *compiler) selectPods(out []*Pod, sel labels.Selector, ns string) []*Pod {
	for _, q := range cx.ix.pods[ns] {
		if sel == nil || sel.Matches(labels.Set(q.Labels)) {
			out = append(out, q)
		}
	}
	return out
}

// namespaces are the namespaces with pods that a namespace selector
// selects.
func (cx *compiler) namespaces(sel labels.Selector) []string {
	key := sel.String()
	if nss, ok := cx.nsSel[key]; ok {
		return nss
	}
	nss := []string{}
	for _, ns := range cx.ix.namespaces {
		if sel.Matches(cx.e.namespaceLabels(ns)) {
			nss = append(nss, ns)
		}
	}
	cx.nsSel[key] = nss
	return nss
}

// use adds a peer set to the Compiled's and returns its ID.
func (cx *compiler) use(ps *peerSet) string {
	if ps.id != "" && !ps.public {
		cx.out[ps.id] = toAddrRanges(ps.addrs)
		ps.public = true
	}
	return ps.id
}

// named groups the peers' pods by the port a named port resolves to on
// each, one peer set per port.
func (cx *compiler) named(ps *peerSet, pr *portRule) []namedGroup {
	key := string(pr.proto) + "/" + pr.name
	if gs, ok := ps.named[key]; ok {
		return gs
	}
	byPort := map[uint16][]addrRange{}
	for _, q := range ps.pods {
		if n, ok := q.namedPort(pr.name, pr.proto); ok {
			ip, _ := v4(q.IP)
			byPort[uint16(n)] = append(byPort[uint16(n)], addrRange{ip, ip})
		}
	}
	var gs []namedGroup
	for port, addrs := range byPort {
		id := hashID(ps.key + "|" + key + "=" + strconv.Itoa(int(port)))
		cx.out[id] = toAddrRanges(mergeRanges(addrs))
		gs = append(gs, namedGroup{port, id})
	}
	slices.SortFunc(gs, func(a, b namedGroup) int { return cmp.Compare(a.port, b.port) })
	if ps.named == nil {
		ps.named = map[string][]namedGroup{}
	}
	ps.named[key] = gs
	return gs
}

func toAddrRanges(rs []addrRange) []AddrRange {
	out := make([]AddrRange, len(rs))
	for i, r := range rs {
		out[i] = AddrRange{addrOf(r.lo), addrOf(r.hi)}
	}
	return out
}
