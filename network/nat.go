package network

import (
	"net"
	"sort"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NATTablePrefix starts the name of every state directory's NAT table
// (family ip), which holds the in-process network's hostPorts and
// masquerade: NATTablePrefix + "-" + the hash of the state directory, as
// the guard table's.
const NATTablePrefix = "podsec-nat"

// Names inside the NAT table.
const (
	natPrerouting  = "prerouting"
	natOutput      = "output"
	natPostrouting = "postrouting"
	natHostPorts   = "hostports"
	natHairpin     = "hairpin" // pod . pod: a pod reaching its own hostPort
)

// ipsDstNAT is IPS_DST_NAT of the conntrack status bits.
const ipsDstNAT = 0x20

var hairpinKeyType = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeIPAddr)

func (m *Manager) natTable() string {
	return NATTablePrefix + "-" + m.rootHash
}

// NATTable is the nftables table (family ip) that holds the in-process
// network's hostPort DNAT and masquerade rules.
func (m *Manager) NATTable() string { return m.natTable() }

// natPod is what the NAT table holds of one in-process attachment.
type natPod struct {
	ip     net.IP
	subnet *net.IPNet // nil when the pod is not masqueraded
	ports  []PortMapping
}

// natPods are the in-process attachments the NAT table serves, sorted so
// that the table is the same for the same records.
func natPods(recs []*Attachment) []natPod {
	var out []natPod
	for _, a := range recs {
		if !a.InProcess || a.Pending || a.IP.To4() == nil {
			continue
		}
		p := natPod{ip: a.IP.To4(), ports: a.Ports}
		if a.Masquerade {
			if _, sn, err := net.ParseCIDR(a.Subnet); err == nil {
				p.subnet = sn
			}
		}
		out = append(out, p)
	}
	return out
}

// buildNAT adds the NAT table to the batch, what the default conflist's
// bridge (ipMasq) and portmap (snat) plugins make in iptables:
//
//	set hairpin { type ipv4_addr . ipv4_addr }     pod . pod, pods with hostPorts
//	chain prerouting  { type nat hook prerouting priority dstnat;  fib daddr type local jump hostports }
//	chain output      { type nat hook output priority dstnat;      fib daddr type local jump hostports }
//	chain hostports   { [ip daddr HOSTIP] meta l4proto P th dport HOSTPORT dnat to POD:PORT ... }
//	chain postrouting { type nat hook postrouting priority srcnat;
//	    ct status dnat ip saddr 127.0.0.0/8 masquerade
//	    ct status dnat ip saddr . ip daddr @hairpin masquerade
//	    ip saddr SUBNET ip daddr != SUBNET ip daddr != 224.0.0.0/4 masquerade }
//
// A hostPort reached from 127.0.0.0/8 is masqueraded to the bridge's
// address, as portmap's snat does (its route_localnet is set on the
// bridge, and the guard drops pods' own packets to 127.0.0.0/8); a pod
// reaching its own hostPort is masqueraded so that its reply comes back
// through the node (hairpin). Pod to pod traffic keeps its source, so
// NetworkPolicy judges the pod that sent it.
func buildNAT(nc *nftables.Conn, t *nftables.Table, pods []natPod) {
	nc.AddTable(t)
	hairpin := &nftables.Set{Table: t, Name: natHairpin, KeyType: hairpinKeyType, Concatenation: true}
	var hp []nftables.SetElement
	for _, p := range pods {
		if len(p.ports) > 0 {
			hp = append(hp, nftables.SetElement{Key: append(append([]byte{}, p.ip...), p.ip...)})
		}
	}
	_ = nc.AddSet(hairpin, hp) // only fails on a set without a name or key type
	accept := nftables.ChainPolicyAccept
	hostports := nc.AddChain(&nftables.Chain{Name: natHostPorts, Table: t})
	for _, h := range []struct {
		name string
		hook *nftables.ChainHook
	}{{natPrerouting, nftables.ChainHookPrerouting}, {natOutput, nftables.ChainHookOutput}} {
		c := nc.AddChain(&nftables.Chain{Name: h.name, Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: h.hook, Priority: nftables.ChainPriorityNATDest, Policy: &accept})
		nc.AddRule(&nftables.Rule{Table: t, Chain: c, Exprs: []expr.Any{
			&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
			&expr.Verdict{Kind: expr.VerdictJump, Chain: natHostPorts},
		}})
	}
	for _, p := range pods {
		for _, pm := range p.ports {
			nc.AddRule(&nftables.Rule{Table: t, Chain: hostports, Exprs: dnatRule(p.ip, pm)})
		}
	}
	post := nc.AddChain(&nftables.Chain{Name: natPostrouting, Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource, Policy: &accept})
	dnatted := []expr.Any{
		&expr.Ct{Key: expr.CtKeySTATUS, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
	nc.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: cat(dnatted, []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Src, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{127}},
		&expr.Masq{},
	})})
	nc.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: cat(dnatted, []expr.Any{
		// Source and destination are next to each other in the header.
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Src, Len: 8},
		&expr.Lookup{SourceRegister: 1, SetName: hairpin.Name, SetID: hairpin.ID},
		&expr.Masq{},
	})})
	for _, sn := range masqSubnets(pods) {
		nc.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Src, Len: 4},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: sn.Mask, Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: sn.IP.To4()},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Dst, Len: 4},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: sn.Mask, Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: sn.IP.To4()},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Dst, Len: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{0xf0}, Xor: []byte{0}},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{224}},
			&expr.Masq{},
		}})
	}
}

// dnatRule sends a hostPort to the pod:
// [ip daddr HOSTIP] meta l4proto P th dport HOSTPORT dnat to POD:PORT.
func dnatRule(pod net.IP, pm PortMapping) []expr.Any {
	var r []expr.Any
	if pm.HostIP != "" {
		r = append(r,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Dst, Len: 4},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: net.ParseIP(pm.HostIP).To4()})
	}
	proto := map[string]byte{"TCP": unix.IPPROTO_TCP, "UDP": unix.IPPROTO_UDP, "SCTP": unix.IPPROTO_SCTP}[pm.Protocol]
	return append(r,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(pm.HostPort))},
		&expr.Immediate{Register: 1, Data: pod.To4()},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(uint16(pm.ContainerPort))},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
}

// masqSubnets are the distinct subnets of the masqueraded pods, sorted.
func masqSubnets(pods []natPod) []*net.IPNet {
	seen := map[string]*net.IPNet{}
	for _, p := range pods {
		if p.subnet != nil {
			seen[p.subnet.String()] = p.subnet
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*net.IPNet, 0, len(keys))
	for _, k := range keys {
		out = append(out, seen[k])
	}
	return out
}
