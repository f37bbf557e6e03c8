package netpol

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// addrRange is an inclusive range of IPv4 addresses as integers.
type addrRange struct{ lo, hi uint32 }

func v4(a netip.Addr) (uint32, bool) {
	if !a.Is4() && !a.Is4In6() {
		return 0, false
	}
	b := a.Unmap().As4()
	return binary.BigEndian.Uint32(b[:]), true
}

func addrOf(u uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], u)
	return netip.AddrFrom4(b)
}

// prefixRange is a prefix's addresses; ok is false for IPv6, which the
// dataplane does not carry (pods are IPv4).
func prefixRange(p netip.Prefix) (addrRange, bool) {
	lo, ok := v4(p.Masked().Addr())
	if !ok {
		return addrRange{}, false
	}
	bits := 32 - p.Bits()
	if bits >= 32 {
		return addrRange{0, ^uint32(0)}, true
	}
	return addrRange{lo, lo | (uint32(1)<<bits - 1)}, true
}

// blockRanges is an ipBlock's cidr minus its excepts.
func blockRanges(b *ipBlock) []addrRange {
	r, ok := prefixRange(b.cidr)
	if !ok {
		return nil
	}
	out := []addrRange{r}
	for _, x := range b.except {
		xr, ok := prefixRange(x)
		if !ok {
			continue
		}
		out = subtract(out, xr)
	}
	return out
}

// subtract removes x from sorted disjoint ranges.
func subtract(rs []addrRange, x addrRange) []addrRange {
	var out []addrRange
	for _, r := range rs {
		if x.hi < r.lo || x.lo > r.hi {
			out = append(out, r)
			continue
		}
		if x.lo > r.lo {
			out = append(out, addrRange{r.lo, x.lo - 1})
		}
		if x.hi < r.hi {
			out = append(out, addrRange{x.hi + 1, r.hi})
		}
	}
	return out
}

// mergeRanges sorts ranges and joins those that overlap or touch.
func mergeRanges(rs []addrRange) []addrRange {
	if len(rs) == 0 {
		return nil
	}
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b addrRange) int { return cmp.Compare(a.lo, b.lo) })
	out := []addrRange{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if uint64(r.lo) <= uint64(last.hi)+1 {
			last.hi = max(last.hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}
