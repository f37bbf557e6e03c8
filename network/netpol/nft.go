package netpol

import (
	"encoding/binary"
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
// adds a set and a chain.
const baseObjects = 5

// stampType is the generation set's key type.
var stampType = nftables.MustConcatSetType(nftables.TypeMark, nftables.TypeMark)

// classKeyType is the key of a class's set: the peer address, the IP
// protocol and the destination port, each padded to 4 bytes.
var classKeyType = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetProto, nftables.TypeInetService)

const classKeyLen = 12

// Registers of the concatenation, as nft allocates them: a 4-byte field in
// the first 32-bit slice of register 1, then registers 9 and 10
// (NFT_REG32_01, NFT_REG32_02).
const (
	regAddr  = 1
	regProto = 9
	regPort  = 10
)

// boxElement is a box as an element of an interval set of concatenations:
// the key is its lowest corner, KeyEnd its highest.
func boxElement(b netpol.Box) nftables.SetElement {
	return nftables.SetElement{
		Key:    classKey(b.AddrFrom, b.ProtoFrom, b.PortFrom),
		KeyEnd: classKey(b.AddrTo, b.ProtoTo, b.PortTo),
	}
}

func boxElements(boxes []netpol.Box) []nftables.SetElement {
	elems := make([]nftables.SetElement, len(boxes))
	for i, b := range boxes {
		elems[i] = boxElement(b)
	}
	return elems
}

func classKey(a netip.Addr, proto uint8, port uint16) []byte {
	k := make([]byte, classKeyLen)
	a4 := a.Unmap().As4()
	copy(k[0:4], a4[:])
	k[4] = proto
	binary.BigEndian.PutUint16(k[8:10], port)
	return k
}

// elemID identifies an element of a class set for diffs.
func elemID(e nftables.SetElement) string { return string(e.Key) + string(e.KeyEnd) }

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

func (d *Dataplane) classSet(name string) *nftables.Set {
	return &nftables.Set{
		Table: d.table(), Name: name, KeyType: classKeyType,
		Interval: true, Concatenation: true, KeyByteOrder: binaryutil.BigEndian,
	}
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

// classRule matches a packet against a class set: the peer's address
// (source for ingress, destination for egress), protocol and destination
// port. Packets without a transport header stop the rule, and then the
// chain's final drop applies.
func classRule(s *nftables.Set, ingress bool, v expr.VerdictKind) []expr.Any {
	return append(ipv4(),
		&expr.Payload{DestRegister: regAddr, Base: expr.PayloadBaseNetworkHeader, Offset: addrOffset(ingress), Len: 4},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: regProto},
		&expr.Payload{DestRegister: regPort, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Lookup{SourceRegister: regAddr, SetName: s.Name, SetID: s.ID},
		&expr.Verdict{Kind: v},
	)
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

// addClass adds a class's set, chain and rules to the batch. Ingress
// chains accept what their set allows; egress chains return to the base
// chain, where the destination's ingress is checked next. Both drop the
// rest.
func (d *Dataplane) addClass(c *nftables.Conn, name string, ingress bool, elems []nftables.SetElement) error {
	s := d.classSet(name)
	if err := c.AddSet(s, nil); err != nil {
		return err
	}
	if err := addElements(c, s, elems); err != nil {
		return err
	}
	ch := c.AddChain(&nftables.Chain{Name: name, Table: d.table()})
	v := expr.VerdictReturn
	if ingress {
		v = expr.VerdictAccept
	}
	c.AddRule(&nftables.Rule{Table: d.table(), Chain: ch, Exprs: classRule(s, ingress, v)})
	c.AddRule(&nftables.Rule{Table: d.table(), Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}})
	return nil
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
