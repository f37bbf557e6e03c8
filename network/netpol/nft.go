package netpol

import (
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/policy/netpol"
)

// Names inside the table.
const (
	forwardChain = "forward"
	inputChain   = "input"
	ingressMap   = "ingress-pods" // isolated destination IP : jump ingress-<class>
	egressMap    = "egress-pods"  // isolated source IP : jump egress-<class>
	ingressPfx   = "ingress-"
	egressPfx    = "egress-"
	// generationSet holds one element, the stamp of the last Sync.
	generationSet = "generation"
)

// stampLen is the length of a generation stamp: two 32-bit marks (nft
// prints marks; it cannot print a concatenation of integers).
const stampLen = 8

// baseObjects counts the chains and sets of a table without classes: the
// two base chains, the two pod maps and the generation set. Each class
// adds a chain, each peer set a set.
const baseObjects = 5

// stampType is the generation set's key type.
var stampType = nftables.MustConcatSetType(nftables.TypeMark, nftables.TypeMark)

// peersPfx starts the name of a peer set: an interval set of IPv4
// addresses.
const peersPfx = "peers-"

func addrKey(a netip.Addr) []byte {
	a4 := a.Unmap().As4()
	return a4[:]
}

func (d *Dataplane) table() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyINet, Name: d.name}
}

func (d *Dataplane) podMap(name string) *nftables.Set {
	return &nftables.Set{Table: d.table(), Name: name, KeyType: nftables.TypeIPAddr, IsMap: true, DataType: nftables.TypeVerdict}
}

func (d *Dataplane) generationSet() *nftables.Set {
	return &nftables.Set{Table: d.table(), Name: generationSet, KeyType: stampType}
}

func (d *Dataplane) peerSet(name string) *nftables.Set {
	return &nftables.Set{Table: d.table(), Name: name, KeyType: nftables.TypeIPAddr, Interval: true}
}

// rangeElements are ranges as the elements of an interval set: each
// range's first address, and the address after its last flagged as an
// interval end (none when the range ends at 255.255.255.255).
func rangeElements(rs []netpol.AddrRange) []nftables.SetElement {
	elems := make([]nftables.SetElement, 0, 2*len(rs))
	for _, r := range rs {
		elems = append(elems, nftables.SetElement{Key: addrKey(r.From)})
		if end := r.To.Next(); end.IsValid() {
			elems = append(elems, nftables.SetElement{Key: addrKey(end), IntervalEnd: true})
		}
	}
	return elems
}

// ipv4 matches IPv4 packets: in the inet family the address payloads need
// it.
func ipv4() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
	}
}

// ctEstablished accepts packets of known connections: replies of allowed
// connections and what relates to them (ICMP errors).
func ctEstablished() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{
			SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED),
			Xor:  binaryutil.NativeEndian.PutUint32(0),
		},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}

// addrOffset is the offset of the source (12) or destination (16)
// address in the IPv4 header.
func addrOffset(src bool) uint32 {
	if src {
		return 12
	}
	return 16
}

// vmapRule jumps to the class chain of the packet's source (egress) or
// destination (ingress) address, if that address is an isolated pod's.
func vmapRule(m *nftables.Set, src bool) []expr.Any {
	return append(ipv4(),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: addrOffset(src), Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: m.Name, SetID: m.ID, DestRegister: 0, IsDestRegSet: true},
	)
}

// matchRule is a class chain's rule for a match: the peer's address
// (source for ingress, destination for egress) in the match's peer set,
// then the protocol and the destination port. A packet without a transport
// header fails a port's load, and then the chain's final drop applies.
// The rule checks for IPv4 again all the same: that costs a register
// compare, and without it nft prints the address as a raw payload.
func matchRule(m netpol.Match, ingress bool, v expr.VerdictKind) []expr.Any {
	ex := ipv4()
	if m.Peers != "" {
		ex = append(ex,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: addrOffset(ingress), Len: 4},
			&expr.Lookup{SourceRegister: 1, SetName: peersPfx + m.Peers},
		)
	}
	if m.Proto != 0 {
		ex = append(ex,
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{m.Proto}},
		)
		if m.PortFrom != 0 || m.PortTo != 65535 {
			ex = append(ex, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
			if m.PortFrom == m.PortTo {
				ex = append(ex, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(m.PortFrom)})
			} else {
				ex = append(ex, &expr.Range{Op: expr.CmpOpEq, Register: 1,
					FromData: binaryutil.BigEndian.PutUint16(m.PortFrom), ToData: binaryutil.BigEndian.PutUint16(m.PortTo)})
			}
		}
	}
	return append(ex, &expr.Verdict{Kind: v})
}

// buildBase adds the table, its two pod maps and its base chains to the
// batch.
func (d *Dataplane) buildBase(c *nftables.Conn) (in, eg *nftables.Set, err error) {
	t := c.AddTable(d.table())
	in, eg = d.podMap(ingressMap), d.podMap(egressMap)
	for _, m := range []*nftables.Set{in, eg, d.generationSet()} {
		if err := c.AddSet(m, nil); err != nil {
			return nil, nil, err
		}
	}
	accept := nftables.ChainPolicyAccept
	fwd := c.AddChain(&nftables.Chain{
		Name: forwardChain, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	})
	c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: ctEstablished()})
	c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: vmapRule(eg, true)})
	c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: vmapRule(in, false)})
	c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: isolatedDrop(in, false)})
	// Pods' traffic to the node's own addresses does not cross the
	// forward hook; their egress rules apply to it here.
	inp := c.AddChain(&nftables.Chain{
		Name: inputChain, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
	})
	c.AddRule(&nftables.Rule{Table: t, Chain: inp, Exprs: ctEstablished()})
	c.AddRule(&nftables.Rule{Table: t, Chain: inp, Exprs: vmapRule(eg, true)})
	return in, eg, nil
}

// isolatedDrop drops packets from (egress) or to (ingress) an isolated
// pod: those its class chain let through without a verdict. A verdict
// map's keys are a set for a lookup.
func isolatedDrop(m *nftables.Set, src bool) []expr.Any {
	return append(ipv4(),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: addrOffset(src), Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: m.Name, SetID: m.ID},
		&expr.Verdict{Kind: expr.VerdictDrop},
	)
}

// addClass adds a class's chain and rules to the batch. Ingress chains
// accept what a match allows and return otherwise, and the forward chain
// drops what is for an isolated pod next: a class costs no drop rule of
// its own. Egress chains return to the base chain for what a match
// allows, where the destination's ingress is checked next, and drop the
// rest.
func (d *Dataplane) addClass(c *nftables.Conn, name string, ingress bool, ms []netpol.Match) {
	ch := c.AddChain(&nftables.Chain{Name: name, Table: d.table()})
	v := expr.VerdictReturn
	if ingress {
		v = expr.VerdictAccept
	}
	for _, m := range ms {
		c.AddRule(&nftables.Rule{Table: d.table(), Chain: ch, Exprs: matchRule(m, ingress, v)})
	}
	if !ingress {
		c.AddRule(&nftables.Rule{Table: d.table(), Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}})
	}
}

// elemChunk bounds the elements of one netlink message: the element list
// is one attribute, whose length is 16 bits.
const elemChunk = 1000

func addElements(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	for len(elems) > 0 {
		n := min(len(elems), elemChunk)
		if err := c.SetAddElements(s, elems[:n]); err != nil {
			return err
		}
		elems = elems[n:]
	}
	return nil
}

func deleteElements(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	for len(elems) > 0 {
		n := min(len(elems), elemChunk)
		if err := c.SetDeleteElements(s, elems[:n]); err != nil {
			return err
		}
		elems = elems[n:]
	}
	return nil
}

func jump(chain string) *expr.Verdict {
	return &expr.Verdict{Kind: expr.VerdictJump, Chain: chain}
}
