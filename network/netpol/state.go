package netpol

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/policy/netpol"
)

// current is what the kernel holds in the dataplane's table.
type current struct {
	exists bool
	// baseOK: the pod maps and base chains are there with their rules,
	// and every class has its set and its chain. Otherwise Sync rebuilds
	// the table (in the same transaction).
	baseOK  bool
	classes map[string]map[string]nftables.SetElement // name -> elemID -> element
	pods    [2]map[netip.Addr]string                  // by direction: IP -> chain
}

// read lists the table's sets, chains and elements. Sync diffs against
// the kernel, not against memory, so that every podsec process (apply,
// run, delete) can update the table.
func (d *Dataplane) read(nc *nftables.Conn) (current, error) {
	cur := current{classes: map[string]map[string]nftables.SetElement{}, pods: [2]map[netip.Addr]string{{}, {}}}
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
		case strings.HasPrefix(s.Name, ingressPfx) || strings.HasPrefix(s.Name, egressPfx):
			if haveChain[s.Name] == nil || !s.Interval || !s.Concatenation || s.KeyType.Bytes != classKeyLen {
				cur.baseOK = false
				continue
			}
			elems, err := nc.GetSetElements(s)
			if err != nil {
				return cur, fmt.Errorf("listing set %s: %w", s.Name, err)
			}
			m := make(map[string]nftables.SetElement, len(elems))
			for _, e := range elems {
				m[elemID(e)] = nftables.SetElement{Key: e.Key, KeyEnd: e.KeyEnd}
			}
			cur.classes[s.Name] = m
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
	}{{forwardChain, 3}, {inputChain, 2}} {
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
		if name != forwardChain && name != inputChain && cur.classes[name] == nil {
			cur.baseOK = false // a chain without its set
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
