package network

import (
	"fmt"
	"hash/fnv"
	"net"
	"path/filepath"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// GuardTablePrefix starts the name of every state directory's guard table
// (family bridge): GuardTablePrefix + "-" + a hash of the state directory's real path,
// so side-by-side podsec instances and tests never guard each other's
// pods.
const GuardTablePrefix = "podsec-guard"

// Names inside the guard table.
const (
	guardHook  = "prerouting"
	guardPod   = "from-pod"
	guardPorts = "ports" // host veths of guarded pods
	guardMACs  = "macs"  // host veth . the pod's MAC
	guardIPs   = "ips"   // host veth . the pod's IPv4 address
	guardBcast = "broadcasts"
)

// Frame offsets: the EtherType in the Ethernet header (the payload
// expression shows a VLAN tag the NIC took off as if it were still there),
// the ARP sender hardware and protocol addresses and their lengths, the
// IPv4 source and destination.
const (
	offEtherSrc  = 6
	offEtherType = 12
	offARPLens   = 4
	offARPSHA    = 8
	offARPSPA    = 14
	offIPv4Src   = 12
	offIPv4Dst   = 16
)

// Registers of the concatenations "ifname . x": the 16-byte interface name
// fills register 1 (NFT_REG32_00..03), the next field starts at
// NFT_REG32_04.
const (
	regIfName = 1
	regNext   = 12
)

var (
	macKeyType = nftables.MustConcatSetType(nftables.TypeIFName, nftables.TypeEtherAddr)
	ipKeyType  = nftables.MustConcatSetType(nftables.TypeIFName, nftables.TypeIPAddr)
)

// guardTable is the name of the state directory's guard table.
func (m *Manager) guardTable() string {
	return GuardTablePrefix + "-" + m.rootHash
}

// tableHash names a state directory's tables: a hash of its real path
// (stateDirReal), so that every spelling of one root (a symbolic link, a
// relative path) names the same tables. Older podsec versions hashed the
// path as given (legacyTableHash).
func tableHash(real string) string {
	h := fnv.New32a()
	h.Write([]byte(real))
	return fmt.Sprintf("%08x", h.Sum32())
}

// legacyTableHash is the hash of older podsec versions' table names.
func (m *Manager) legacyTableHash() string {
	return tableHash(filepath.Clean(m.cfg.StateDir))
}

// GuardTable is the nftables table (family bridge) that holds this
// Manager's pods to their own addresses.
func (m *Manager) GuardTable() string { return m.guardTable() }

// guarded is what the guard table holds of one pod.
type guarded struct {
	hostIf string
	mac    net.HardwareAddr
	ip     net.IP
	bcast  net.IP // the broadcast address of the pod's subnet, or nil
}

// syncGuard makes the guard table hold every attached pod of the state
// directory, under its lock.
func (m *Manager) syncGuard() error {
	l, err := m.lockState()
	if err != nil {
		return err
	}
	defer l.unlock()
	return m.syncGuardLocked()
}

// syncGuardLocked rebuilds the guard table from the records in one
// nftables transaction (packets see the old table or the new one, never
// none), or deletes it when no pod is attached. Rebuilding rather than
// diffing keeps it simple: a table holds a few entries per pod of one
// node. The state lock is held, so the records cannot change under it.
func (m *Manager) syncGuardLocked() error {
	recs, err := m.records()
	if err != nil {
		return err
	}
	var pods []guarded
	for _, a := range recs {
		if a.Pending || a.IP.To4() == nil {
			continue // not on the network yet: its veth has no peer that runs anything
		}
		if a.HostIf == "" {
			// Attached by an older podsec, which did not record it: look
			// it up while the pod's namespace is there. Best effort: the
			// other pods' guard must not wait on it.
			if !isNetNS(a.NetNS) {
				continue
			}
			if a.HostIf, a.MAC, err = hostSide(a.NetNS, a.IfName); err != nil || m.writeRecord(a) != nil {
				continue
			}
		}
		mac, err := net.ParseMAC(a.MAC)
		if err != nil || len(mac) != 6 {
			return fmt.Errorf("guarding pod %s: recorded MAC %q: %w", a.Pod, a.MAC, ErrInvalid)
		}
		pods = append(pods, guarded{hostIf: a.HostIf, mac: mac, ip: a.IP.To4(), bcast: subnetBroadcast(a.Subnet)})
	}
	nat := natPods(recs)
	nc, err := nftables.New()
	if err != nil {
		return fmt.Errorf("syncing nftables tables: %w", err)
	}
	tables, err := nc.ListTables()
	if err != nil {
		return fmt.Errorf("syncing nftables tables: %w", err)
	}
	exists := func(t *nftables.Table) bool {
		for _, have := range tables {
			if have.Family == t.Family && have.Name == t.Name {
				return true
			}
		}
		return false
	}
	guard := &nftables.Table{Family: nftables.TableFamilyBridge, Name: m.guardTable()}
	natT := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: m.natTable()}
	specs := []tableSpec{
		{guard, len(pods) > 0, exists(guard), []string{guardHook, guardPod}, []string{guardPorts, guardMACs, guardIPs, guardBcast},
			func() error { return buildGuard(nc, guard, pods) }},
		{natT, len(nat) > 0, exists(natT), []string{natPrerouting, natOutput, natHostPorts, natPostrouting}, []string{natHairpin},
			func() error { buildNAT(nc, natT, nat); return nil }},
	}
	// An older podsec named this root's tables by the path as given:
	// under another spelling they are the same pods' and go in the same
	// transaction.
	if old := m.legacyTableHash(); old != m.rootHash {
		for _, t := range []*nftables.Table{
			{Family: nftables.TableFamilyBridge, Name: GuardTablePrefix + "-" + old},
			{Family: nftables.TableFamilyIPv4, Name: NATTablePrefix + "-" + old},
		} {
			specs = append(specs, tableSpec{t: t, had: exists(t)})
		}
	}
	// Refilled in place, a table keeps its base chains registered: the
	// kernel waits for an RCU grace period to unhook a chain, which made
	// a rebuild cost milliseconds per pod. A table of another layout (an
	// older podsec's) makes the refill fail, and is then rebuilt.
	for _, refill := range []bool{true, false} {
		queued, err := queueTables(nc, specs, refill)
		if err != nil || !queued {
			return err
		}
		if err = nc.Flush(); err == nil {
			return nil
		}
		if !refill {
			return fmt.Errorf("syncing nftables tables %s and %s: %w", guard.Name, natT.Name, err)
		}
	}
	return nil
}

// tableSpec is one table of the state directory as it must be: present
// (want) with its chains and sets, made by build, or absent.
type tableSpec struct {
	t            *nftables.Table
	want, had    bool
	chains, sets []string
	build        func() error
}

// queueTables adds the tables' changes to the batch: both change in one
// transaction, so a pod is never guarded without its hostPorts, nor the
// reverse. With refill, a table that exists and stays has its chains and
// sets emptied and filled again; otherwise it is deleted and made anew.
func queueTables(nc *nftables.Conn, specs []tableSpec, refill bool) (queued bool, err error) {
	for _, sp := range specs {
		switch {
		case sp.had && sp.want && refill:
			for _, c := range sp.chains {
				nc.FlushChain(&nftables.Chain{Name: c, Table: sp.t})
			}
			for _, s := range sp.sets {
				nc.FlushSet(&nftables.Set{Name: s, Table: sp.t})
			}
		case sp.had:
			nc.DelTable(sp.t)
		}
		if sp.want {
			if err := sp.build(); err != nil {
				return false, fmt.Errorf("syncing nftables table %s: %w", sp.t.Name, err)
			}
		}
		queued = queued || sp.had || sp.want
	}
	return queued, nil
}

// buildGuard adds the guard table to the batch:
//
//	set ports { type ifname }
//	set macs  { type ifname . ether_addr }
//	set ips   { type ifname . ipv4_addr }
//	set broadcasts { type ipv4_addr; elements = { 255.255.255.255, <each pod subnet's> } }
//	chain prerouting { type filter hook prerouting priority -300; policy accept
//	    iifname @ports jump from-pod }
//	chain from-pod {
//	    iifname . ether saddr != @macs drop
//	    ether type arp iifname . arp saddr ether != @macs drop
//	    ether type arp iifname . arp saddr ip != @ips drop
//	    ether type arp arp hlen 6 arp plen 4 accept
//	    ether type ip iifname . ip saddr != @ips drop
//	    ether type ip ip daddr 127.0.0.0/8 drop
//	    ether type ip ip daddr 224.0.0.0/4 drop
//	    ether type ip ip daddr @broadcasts drop
//	    ether type ip accept
//	    drop }
//
// Frames from a pod carry its own MAC and address, in ARP and IPv4, or
// they are dropped before they reach the bridge, the node or conntrack:
// NetworkPolicy then judges the address the pod really has. IPv6 and any
// other EtherType (VLAN tags included) are dropped: pods are IPv4 only and
// the policy dataplane matches IPv4 only, so an fe80:: address would walk
// around it. Packets to 127.0.0.0/8 are dropped too: portmap turns on
// route_localnet on the bridge for hostPorts on 127.0.0.1, and the node
// would then take a pod's packet to 127.0.0.1 as local (CVE-2020-8558).
// Broadcast and multicast are dropped too: NetworkPolicy finds a packet's
// isolated pod by its destination address, which a broadcast or multicast
// address is not, while the bridge floods it to every pod (a UDP server on
// 0.0.0.0 in a protected pod took datagrams to 255.255.255.255 and to the
// subnet's broadcast from pods its policy denies). Pods have no use for
// them on a Kubernetes pod network: host-local IPAM needs no DHCP. The
// destination, not the Ethernet one, is matched: a broadcast address in a
// frame to the victim's own MAC is taken as broadcast as well.
// The priority runs the chain before br_netfilter hands IPv4 to the inet
// hooks.
func buildGuard(nc *nftables.Conn, t *nftables.Table, pods []guarded) error {
	nc.AddTable(t)
	// Interface names are strings, in host byte order for nft's listing.
	ports := &nftables.Set{Table: t, Name: guardPorts, KeyType: nftables.TypeIFName, KeyByteOrder: binaryutil.NativeEndian}
	macs := &nftables.Set{Table: t, Name: guardMACs, KeyType: macKeyType, Concatenation: true}
	ips := &nftables.Set{Table: t, Name: guardIPs, KeyType: ipKeyType, Concatenation: true}
	bcasts := &nftables.Set{Table: t, Name: guardBcast, KeyType: nftables.TypeIPAddr}
	var portElems, macElems, ipElems []nftables.SetElement
	bcastElems := []nftables.SetElement{{Key: net.IPv4bcast.To4()}}
	seen := map[string]bool{net.IPv4bcast.String(): true}
	for _, p := range pods {
		if p.bcast != nil && !seen[p.bcast.String()] {
			seen[p.bcast.String()] = true
			bcastElems = append(bcastElems, nftables.SetElement{Key: p.bcast})
		}
		name := ifNameKey(p.hostIf)
		portElems = append(portElems, nftables.SetElement{Key: name})
		macElems = append(macElems, nftables.SetElement{Key: concatKey(name, p.mac)})
		ipElems = append(ipElems, nftables.SetElement{Key: concatKey(name, p.ip)})
	}
	for _, s := range []struct {
		set   *nftables.Set
		elems []nftables.SetElement
	}{{ports, portElems}, {macs, macElems}, {ips, ipElems}, {bcasts, bcastElems}} {
		if err := nc.AddSet(s.set, s.elems); err != nil {
			return err
		}
	}
	accept := nftables.ChainPolicyAccept
	hook := nc.AddChain(&nftables.Chain{
		Name: guardHook, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw, Policy: &accept,
	})
	pod := nc.AddChain(&nftables.Chain{Name: guardPod, Table: t})
	nc.AddRule(&nftables.Rule{Table: t, Chain: hook, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: regIfName},
		&expr.Lookup{SourceRegister: regIfName, SetName: ports.Name, SetID: ports.ID},
		&expr.Verdict{Kind: expr.VerdictJump, Chain: guardPod},
	}})
	drop := &expr.Verdict{Kind: expr.VerdictDrop}
	arp, ip4 := etherType(unix.ETH_P_ARP), etherType(unix.ETH_P_IP)
	for _, r := range [][]expr.Any{
		notIn(macs, expr.PayloadBaseLLHeader, offEtherSrc, 6, drop),
		cat(arp, notIn(macs, expr.PayloadBaseNetworkHeader, offARPSHA, 6, drop)),
		cat(arp, notIn(ips, expr.PayloadBaseNetworkHeader, offARPSPA, 4, drop)),
		cat(arp, []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offARPLens, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{6, 4}},
			&expr.Verdict{Kind: expr.VerdictAccept},
		}),
		cat(ip4, notIn(ips, expr.PayloadBaseNetworkHeader, offIPv4Src, 4, drop)),
		cat(ip4, []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Dst, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{127}},
			drop,
		}),
		cat(ip4, []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Dst, Len: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{0xf0}, Xor: []byte{0}},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{224}},
			drop,
		}),
		cat(ip4, []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offIPv4Dst, Len: 4},
			&expr.Lookup{SourceRegister: 1, SetName: bcasts.Name, SetID: bcasts.ID},
			drop,
		}),
		cat(ip4, []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}),
		{drop},
	} {
		nc.AddRule(&nftables.Rule{Table: t, Chain: pod, Exprs: r})
	}
	return nil
}

// subnetBroadcast is the broadcast address of an IPv4 CIDR ("10.90.0.7/24"
// gives 10.90.0.255), or nil when it has none (/31, /32) or is not one.
func subnetBroadcast(cidr string) net.IP {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil || n.IP.To4() == nil {
		return nil
	}
	if ones, _ := n.Mask.Size(); ones > 30 {
		return nil
	}
	b := make(net.IP, 4)
	for i := range b {
		b[i] = n.IP.To4()[i] | ^n.Mask[i]
	}
	return b
}

// etherType matches frames of one EtherType.
func etherType(proto uint16) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: offEtherType, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(proto >> 8), byte(proto)}},
	}
}

// notIn applies v to frames whose "input interface . field" is not in s.
func notIn(s *nftables.Set, base expr.PayloadBase, off, n uint32, v *expr.Verdict) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: regIfName},
		&expr.Payload{DestRegister: regNext, Base: base, Offset: off, Len: n},
		&expr.Lookup{SourceRegister: regIfName, SetName: s.Name, SetID: s.ID, Invert: true},
		v,
	}
}

func cat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ifNameKey is an interface name as the kernel compares it: IFNAMSIZ
// bytes, zero-padded.
func ifNameKey(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// concatKey is "ifname . field", the field padded to a multiple of 4
// bytes as in a register.
func concatKey(name []byte, field []byte) []byte {
	k := append([]byte{}, name...)
	k = append(k, field...)
	for len(k)%4 != 0 {
		k = append(k, 0)
	}
	return k
}
