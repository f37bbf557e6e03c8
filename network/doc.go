// Package network gives pods their network on this node: a pod IP on
// podsec's bridge, hostPort mappings, and the state to undo both even
// after podsec was killed.
//
// The network is the one named Config.Network (default "podsec") of
// Config.ConfDir (default /etc/cni/net.d). When the conf dir has no such
// network, podsec writes podsec.conflist:
//
//	bridge   podsec0, isGateway, ipMasq, hairpinMode, host-local IPAM of
//	         10.90.0.0/16 whose allocations live under Config.StateDir
//	firewall lets pod traffic through a FORWARD policy of DROP (Docker's)
//	portmap  hostPorts (capability portMappings), snat for 127.0.0.1
//
// # Two backends, one network
//
// A conflist exactly as podsec writes it (any bridge, subnet, ipMasq and
// IPAM directory; byte for byte) is run in-process (BackendInProcess):
// netlink makes the bridge and the veth, whose peer is born as eth0 in the
// pod's namespace; the address comes from host-local's own files (the
// address file with "<container ID>\r\n<ifname>", last_reserved_ip.0, the
// lock), so host-local, cnitool and an older podsec read and release the
// same allocations; hostPort DNAT, the masquerade of 127.0.0.0/8 and
// hairpin hostPort traffic and ipMasq live in an nftables table of family
// ip, NATTable() ("podsec-nat-<hash of StateDir's real path>"), refilled from the
// records in the same transaction as the guard table. No fork, no
// iptables. The firewall plugin's part, on a node whose FORWARD policy is
// DROP, is two iptables rules for the subnet, and on a node with a
// CNI-ADMIN chain two jumps to it ahead of them: one block per state
// root, added once and taken out by the root's last pod, so that two
// roots sharing the bridge never take each other's (forward.go). The
// bridge and those rules are every root's: their making and deletion,
// and a veth's arrival on the bridge, hold the node-wide lock
// (/run/podsec/network.lock) for the microseconds they take. Either backend forgets the conntrack entries of
// an address when it is given to a pod (conntrack.go). Any other
// conflist, an edited podsec.conflist too, runs through libcni and the
// plugins it names, unchanged (BackendCNI); Config.Backend forces
// either. Every record says which
// backend made it (Attachment.InProcess), and Teardown and GC undo it the
// same way, so pods attached by an older podsec are torn down by CNI DEL.
// Interface names (eth0, a "veth" host end), addresses and records are the
// same either way, so the guard and NetworkPolicy see no difference.
//
// Loopback is not a plugin: the pod sandbox brings lo up, and Setup does
// too.
//
// # Use
//
//	m, err := network.New(network.Config{StateDir: root + "/network"})
//	// once, at start, before any pod starts: undo what a killed podsec left
//	err = m.GC(ctx, func(network.PodRef) bool { return false })
//	// per pod, after the sandbox has bind-mounted its netns, before any
//	// container starts and before /etc/hosts is written:
//	att, err := m.Setup(ctx, network.PodRef{Namespace: ns, Name: name, UID: uid},
//		netnsPath, ports) // the plan's host ports (pipeline.Plan.HostPorts)
//	// att.IP is the pod IP (status.podIP, /etc/hosts)
//	// when the pod ends, before its netns is unmounted:
//	err = m.Teardown(ctx, ref)
//	// when podsec exits and no pod is left:
//	err = m.Close(ctx)
//
// A hostNetwork pod is not attached: it has the node's network.
//
// # hostPort reservations
//
// Nothing in CNI reserves host ports, so podsec does. Every attachment
// record (Config.StateDir/pods/<namespace>_<name>.json) lists the pod's
// hostPorts, and Setup checks and writes them under an flock of the state
// directory, before any plugin runs: a second pod asking for a port/protocol
// held by another pod is refused with ErrPortConflict ("hostPort 9000/TCP
// is already held by pod default/kubia-hostport"). Host ports are the
// node's: a pod of another state root (--root) holding the port is a
// conflict too, found through the list of the node's roots in
// /run/podsec/roots, under the node lock (roots.go). hostIP "" (every
// address) conflicts with any hostIP of the same port and protocol. Setup
// also binds each TCP and UDP port briefly, and refuses with ErrPortInUse a
// port some other process of the node listens on: portmap's DNAT would
// take its traffic silently. The port is free again once Teardown has run.
//
// # Pods keep to their own addresses
//
// Pods are IPv4 only: Setup turns IPv6 off in the pod's namespace before
// CNI ADD (net.ipv6.conf.default.disable_ipv6, then eth0's), so eth0 never
// has an fe80:: address on the shared bridge; loopback keeps ::1.
//
// A pod with the default CAP_NET_RAW can still put any frame on its veth,
// and one with CAP_NET_ADMIN can turn IPv6 back on. So every state
// directory has a bridge-family nftables table, GuardTable()
// ("podsec-guard-<hash of StateDir's real path>"), whose prerouting chain (priority
// -300, before br_netfilter and conntrack) takes every frame arriving from
// the host veth of an attached pod and drops it unless
//
//	its Ethernet source is the pod's MAC, and it is
//	ARP whose sender MAC and IPv4 address are the pod's, or
//	IPv4 whose source is the pod's address and whose destination is not
//	in 127.0.0.0/8.
//
// IPv6 (NDP included) and every other EtherType, VLAN tags too, are
// dropped. NetworkPolicy therefore judges the address a pod really has,
// no neighbour learns a forged MAC for another pod's address, and a pod
// cannot send to 127.0.0.1 through the bridge, which portmap's
// route_localnet would otherwise accept as local (CVE-2020-8558). Setup
// records the host veth (the peer of the pod's eth0, which must be a veth)
// and the MAC, and programs the table before it returns, that is before
// any container of the pod runs; Teardown, GC and Close rebuild it from
// the records in one transaction, and delete it with the last pod.
//
// # Node settings
//
// The bridge plugin (and the in-process network) sets
// net.ipv4.ip_forward=1 (isGateway), and portmap (and the in-process
// network, for a pod with hostPorts) sets
// net.ipv4.conf.podsec0.route_localnet=1 for hostPorts reached on
// 127.0.0.1; podsec sets no sysctl of the node itself (only the pod's
// IPv6 ones) and never touches the node's other interfaces. iptables (iptables-nft on Debian) must be on PATH for
// the plugins and podsec. With br_netfilter loaded
// (net.bridge.bridge-nf-call-iptables=1) traffic between pods crosses the
// FORWARD chain, which the firewall plugin opens for pod addresses.
//
// # What is left on the node
//
// In-process, Teardown first marks the record pending and refills the
// tables without the pod (so no hostPort leads to an address that may be
// handed out again) while it deletes the host veth, then releases the
// address, then the record: a teardown interrupted anywhere is finished
// by the next Teardown or GC from the pending record. The last pod of the
// state directory takes the tables, the root's FORWARD rules and the
// bridge, unless another root's pod is on it, with it (the bridge and its
// veth in one batch of the kernel's), under the state lock and the node
// lock; Close removes whatever is left (the IPAM data, the FORWARD rules)
// as below. The IPAM data is every root's that reads the conflist: Close
// removes it only when it holds no allocation and no one holds its lock,
// and an allocation that finds its lock file removed under it takes the
// lock of a new one (ipam.go). Setup and GC put back what is missing of
// the root's FORWARD rules (a podsec killed between the marker and the
// rules, a reload of the node's firewall).
// Deleting links and base chains is mostly waiting for RCU grace periods
// (a bridge waits for two rcu_barrier calls, 30-45 ms here), so these
// steps overlap rather than follow each other; podsec run --trace shows
// each of them.
//
// Through CNI, Teardown removes the pod's veth, IP allocation, masquerade, firewall and
// portmap rules, also when the pod's netns is gone, by finding rules with
// the attachment's CNI container ID in their comment. Close removes the
// bridge, the IPAM data and CNI's shared chains (CNI-HOSTPORT-*,
// CNI-FORWARD, CNI-ADMIN) when nothing uses them. The plugins create those
// node-wide chains without a lock of their own, so two ADDs at once fail;
// every podsec process of the node therefore holds
// /run/podsec/network.lock during CNI ADD, DEL and the removal of those
// chains: the network setups of a node run one at a time (about 90 ms for
// ADD, 200 ms for DEL with Debian's plugins). Other CNI users of the node
// (Podman with CNI) do not take it.
package network
