package netpol

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/policy/netpol"
)

// current is what the kernel holds in the dataplane's table.
type current struct {
	exists bool
	// baseOK: the pod maps and base chains are there with their rules,
	// and every other object is a peer set or a class chain. Otherwise
	// Sync rebuilds the table (in the same transaction).
	baseOK bool
	peers  map[string][]netpol.AddrRange // set name -> ranges
	// classes are the class chains. A class chain's name is a hash of
	// its rules (netpol.Rules), which never change under it.
	classes map[string]bool
	pods    [2]map[netip.Addr]string // by direction: IP -> chain
	// stamp is the generation set's element: a random value each Sync
	// writes, so that a dataplane knows whether anyone synced the table
	// since it did.
	stamp []byte
	// objects is the table's count of chains and sets.
	objects uint32
}

func newCurrent() current {
	return current{peers: map[string][]netpol.AddrRange{}, classes: map[string]bool{}, pods: [2]map[netip.Addr]string{{}, {}}}
}

// current is what the table holds: the dataplane's memory of its last
// Sync when the kernel still shows that Sync's stamp, its object count and
// its base chains' rules (a handful of small netlink dumps), or else what
// read lists. Another podsec process's Sync changes the stamp; a hand-made
// change to the table's structure changes the count or the base chains.
func (d *Dataplane) current(nc *nftables.Conn, mem *current) (current, bool, error) {
	read := func() (current, bool, error) {
		cur, err := d.read(nc)
		return cur, true, err
	}
	if mem == nil {
		return read()
	}
	t, err := nc.ListTableOfFamily(d.name, nftables.TableFamilyINet)
	switch {
	case errors.Is(err, unix.ENOENT):
		if !mem.exists {
			return *mem, false, nil
		}
		return read()
	case err != nil:
		return current{}, false, err
	case !mem.exists || tableUse(t) != mem.objects:
		return read()
	}
	stamp, err := d.readStamp(nc)
	if err != nil {
		return current{}, false, err
	}
	if string(stamp) != string(mem.stamp) {
		return read()
	}
	ok, err := d.baseChainsOK(nc)
	if err != nil || !ok {
		return read()
	}
	return *mem, false, nil
}

// tableUse is the table's count of chains and sets. google/nftables
// v0.3.0 decodes NFTA_TABLE_USE, a big-endian attribute, in the host's
// byte order.
func tableUse(t *nftables.Table) uint32 {
	return binary.BigEndian.Uint32(binaryutil.NativeEndian.PutUint32(t.Use))
}

// readStamp is the generation set's element, nil if there is none or
// more than one.
func (d *Dataplane) readStamp(nc *nftables.Conn) ([]byte, error) {
	elems, err := nc.GetSetElements(d.generationSet())
	if err != nil {
		return nil, fmt.Errorf("listing set %s: %w", generationSet, err)
	}
	if len(elems) != 1 {
		return nil, nil
	}
	return elems[0].Key, nil
}

// baseChainsOK reports whether the base chains hold their rules.
func (d *Dataplane) baseChainsOK(nc *nftables.Conn) (bool, error) {
	for _, c := range []struct {
		name  string
		rules int
	}{{forwardChain, 4}, {inputChain, 2}} {
		rules, err := nc.GetRules(d.table(), &nftables.Chain{Name: c.name, Table: d.table()})
		if err != nil {
			return false, fmt.Errorf("listing chain %s: %w", c.name, err)
		}
		if len(rules) != c.rules {
			return false, nil
		}
	}
	return true, nil
}

// newStamp is a random generation stamp.
func newStamp() []byte {
	b := make([]byte, stampLen)
	rand.Read(b)
	return b
}

// restamp replaces the generation set's element in the batch.
func (d *Dataplane) restamp(nc *nftables.Conn, stamp []byte) error {
	s := d.generationSet()
	nc.FlushSet(s)
	return nc.SetAddElements(s, []nftables.SetElement{{Key: stamp}})
}

// read lists the table's sets, chains and elements: what a dataplane
// that has not synced the table yet, or finds it changed by someone else,
// diffs against.
func (d *Dataplane) read(nc *nftables.Conn) (current, error) {
	cur := newCurrent()
	tables, err := nc.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return cur, err
	}
	for _, t := range tables {
		cur.exists = cur.exists || t.Name == d.name
	}
	if !cur.exists {
		return cur, nil
	}
	t := d.table()
	sets, err := nc.GetSets(t)
	if err != nil {
		return cur, fmt.Errorf("listing sets: %w", err)
	}
	chains, err := nc.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return cur, fmt.Errorf("listing chains: %w", err)
	}
	haveChain := map[string]*nftables.Chain{}
	for _, c := range chains {
		if c.Table.Name == d.name {
			haveChain[c.Name] = c
		}
	}
	maps := 0
	cur.baseOK = true
	for _, s := range sets {
		switch {
		case s.Name == generationSet:
			if cur.stamp, err = d.readStamp(nc); err != nil {
				return cur, err
			}
		case s.Name == ingressMap || s.Name == egressMap:
			maps++
			dir := netpol.Ingress
			if s.Name == egressMap {
				dir = netpol.Egress
			}
			elems, err := nc.GetSetElements(s)
			if err != nil {
				return cur, fmt.Errorf("listing map %s: %w", s.Name, err)
			}
			for _, e := range elems {
				ip, ok := netip.AddrFromSlice(e.Key)
				chain := verdictChain(e.Val)
				if !ok || chain == "" {
					cur.baseOK = false
					continue
				}
				cur.pods[dir][ip] = chain
			}
		case strings.HasPrefix(s.Name, peersPfx):
			if !s.Interval || s.Concatenation || s.KeyType.Bytes != 4 {
				cur.baseOK = false
				continue
			}
			elems, err := nc.GetSetElements(s)
			if err != nil {
				return cur, fmt.Errorf("listing set %s: %w", s.Name, err)
			}
			rs, ok := elementRanges(elems)
			if !ok {
				cur.baseOK = false
				continue
			}
			cur.peers[s.Name] = rs
		default:
			cur.baseOK = false
		}
	}
	if maps != 2 {
		cur.baseOK = false
	}
	for _, c := range []struct {
		name  string
		rules int
	}{{forwardChain, 4}, {inputChain, 2}} {
		ch := haveChain[c.name]
		if ch == nil {
			cur.baseOK = false
			continue
		}
		rules, err := nc.GetRules(t, ch)
		if err != nil {
			return cur, fmt.Errorf("listing chain %s: %w", c.name, err)
		}
		if len(rules) != c.rules {
			cur.baseOK = false
		}
	}
	for name := range haveChain {
		switch {
		case name == forwardChain || name == inputChain:
		case strings.HasPrefix(name, ingressPfx) || strings.HasPrefix(name, egressPfx):
			cur.classes[name] = true
		default:
			cur.baseOK = false
		}
	}
	return cur, nil
}

// verdictChain is the chain a verdict map element jumps to: the element's
// data is an NFTA_DATA_VERDICT attribute holding the verdict code and the
// chain's name.
func verdictChain(b []byte) string {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return ""
	}
	ad.ByteOrder = binary.BigEndian
	var code uint32
	var chain string
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_VERDICT_CODE:
			code = ad.Uint32()
		case unix.NFTA_VERDICT_CHAIN:
			chain = ad.String()
		}
	}
	if ad.Err() != nil || int32(code) != unix.NFT_JUMP {
		return ""
	}
	return chain
}

// elementRanges are the ranges an interval set's elements make: each
// start element, up to the end element that follows it (if any). ok is
// false when the elements make no such sequence.
func elementRanges(elems []nftables.SetElement) ([]netpol.AddrRange, bool) {
	slices.SortFunc(elems, func(a, b nftables.SetElement) int {
		if c := bytes.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return cmp.Compare(boolInt(!a.IntervalEnd), boolInt(!b.IntervalEnd)) // ends first
	})
	var rs []netpol.AddrRange
	open := false
	for _, e := range elems {
		a, ok := netip.AddrFromSlice(e.Key)
		if !ok || !a.Is4() {
			return nil, false
		}
		switch {
		case e.IntervalEnd && open:
			rs[len(rs)-1].To = a.Prev()
			open = false
		case e.IntervalEnd:
			// nft puts an end element at 0.0.0.0 before a first range
			// that does not start there; nothing to close.
			if a != netip.IPv4Unspecified() {
				return nil, false
			}
		case open:
			return nil, false
		default:
			rs = append(rs, netpol.AddrRange{From: a, To: netip.AddrFrom4([4]byte{255, 255, 255, 255})})
			open = true
		}
	}
	return rs, true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
