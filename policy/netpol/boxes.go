package netpol

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// Box is a block of allowed connections of an isolated pod: peer addresses
// (an inclusive IPv4 range), IP protocols (inclusive) and destination
// ports (inclusive). For ingress the peer is the source, for egress the
// destination. A rule without ports allows every protocol: Proto 0-255,
// Port 0-65535.
type Box struct {
	AddrFrom, AddrTo   netip.Addr
	ProtoFrom, ProtoTo uint8
	PortFrom, PortTo   uint16
}

// addrRange is an inclusive range of IPv4 addresses as integers.
type addrRange struct{ lo, hi uint32 }

// protoPorts is a block of protocols and ports.
type protoPorts struct {
	p0, p1 uint8
	q0, q1 uint16
}

var allProtoPorts = protoPorts{0, 255, 0, 65535}

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

// disjoint turns overlapping blocks of (protocols, ports) x addresses into
// disjoint boxes covering the same connections, in a stable order. The
// kernel's interval sets of concatenations refuse overlapping elements,
// and fewer, larger boxes make smaller sets.
func disjoint(groups map[protoPorts][]addrRange) []Box {
	var protoPts []uint32
	for g := range groups {
		protoPts = append(protoPts, uint32(g.p0), uint32(g.p1)+1)
	}
	protoPts = sortedUnique(protoPts)
	var protos []protoSlab
	for i := 0; i+1 < len(protoPts); i++ {
		plo, phi := protoPts[i], protoPts[i+1]-1
		var portPts []uint32
		for g := range groups {
			if uint32(g.p0) <= plo && phi <= uint32(g.p1) {
				portPts = append(portPts, uint32(g.q0), uint32(g.q1)+1)
			}
		}
		portPts = sortedUnique(portPts)
		var ports []slab
		for k := 0; k+1 < len(portPts); k++ {
			qlo, qhi := portPts[k], portPts[k+1]-1
			var addrs []addrRange
			for g, rs := range groups {
				if uint32(g.p0) <= plo && phi <= uint32(g.p1) && uint32(g.q0) <= qlo && qhi <= uint32(g.q1) {
					addrs = append(addrs, rs...)
				}
			}
			addrs = mergeRanges(addrs)
			if len(addrs) == 0 {
				continue
			}
			if n := len(ports); n > 0 && ports[n-1].hi+1 == qlo && slices.Equal(ports[n-1].addrs, addrs) {
				ports[n-1].hi = qhi
				continue
			}
			ports = append(ports, slab{qlo, qhi, addrs})
		}
		if len(ports) == 0 {
			continue
		}
		if n := len(protos); n > 0 && protos[n-1].hi+1 == plo && slabsEqual(protos[n-1].ports, ports) {
			protos[n-1].hi = phi
			continue
		}
		protos = append(protos, protoSlab{plo, phi, ports})
	}
	var out []Box
	for _, p := range protos {
		for _, q := range p.ports {
			for _, a := range q.addrs {
				out = append(out, Box{
					AddrFrom: addrOf(a.lo), AddrTo: addrOf(a.hi),
					ProtoFrom: uint8(p.lo), ProtoTo: uint8(p.hi),
					PortFrom: uint16(q.lo), PortTo: uint16(q.hi),
				})
			}
		}
	}
	return out
}

// slab is a range of ports with the addresses allowed on all of them.
type slab struct {
	lo, hi uint32
	addrs  []addrRange
}

// protoSlab is a range of protocols with the same ports and addresses.
type protoSlab struct {
	lo, hi uint32
	ports  []slab
}

func slabsEqual(a, b []slab) bool {
	return slices.EqualFunc(a, b, func(x, y slab) bool {
		return x.lo == y.lo && x.hi == y.hi && slices.Equal(x.addrs, y.addrs)
	})
}

func sortedUnique(v []uint32) []uint32 {
	slices.Sort(v)
	return slices.Compact(v)
}
