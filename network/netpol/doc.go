// Package netpol is the kernel dataplane of NetworkPolicies: it programs
// what policy/netpol compiles into an nftables table of its own, through
// netlink (github.com/google/nftables, no nft binary), and probes the
// pod network for `podsec netpol matrix --probe`.
//
// # The table
//
// One inet table (DefaultTable, "podsec-netpol"; Config.Table for tests):
//
//	map ingress-pods { ipv4_addr : verdict }   isolated pod IP : jump ingress-<class>
//	map egress-pods  { ipv4_addr : verdict }   isolated pod IP : jump egress-<class>
//	chain forward { hook forward priority filter; policy accept
//	    ct state established,related accept
//	    ip saddr vmap @egress-pods
//	    ip daddr vmap @ingress-pods }
//	chain input { hook input priority filter; policy accept
//	    ct state established,related accept
//	    ip saddr vmap @egress-pods }
//	set generation { mark . mark }             the stamp of the last Sync
//	set ingress-<class> { ipv4_addr . inet_proto . inet_service; flags interval }
//	chain ingress-<class> { ip saddr . meta l4proto . th dport @ingress-<class> accept; drop }
//	set egress-<class> { same type }
//	chain egress-<class> { ip daddr . meta l4proto . th dport @egress-<class> return; drop }
//
// A class is the allowed (peer addresses, protocols, ports) of the pods
// that the same policies select; its elements are disjoint boxes with
// ranges in each field (ipBlock cidr minus except, endPort, all ports and
// protocols for rules without ports), so a packet costs a conntrack
// lookup, a hash lookup per direction and one set lookup per isolated
// side, however many pods and policies there are. Only the first packet of
// a connection goes past the conntrack rule; replies and related ICMP pass
// there.
//
// # Where pod traffic is seen
//
// Pods are on a Linux bridge. With br_netfilter loaded and
// net.bridge.bridge-nf-call-iptables=1 (as on the nodes podsec runs on,
// and what CNI's firewall plugin relies on too), bridged IPv4 traffic
// between pods crosses the inet forward hook, as does routed traffic
// between pods and other hosts. Sync refuses to program a table when that
// sysctl is not 1 (ErrNoBridgeNetfilter): policies would not hold for
// pod-to-pod traffic. Traffic from the node to its pods leaves through the
// output hook, which the table does not filter: it is always allowed.
// Pods' traffic to the node's own addresses arrives at the input hook,
// where their egress classes apply (only ipBlocks match the node).
//
// The table matches IPv4 only, and source addresses as they come. Both
// hold because of the pod network's guard table (package network): pods
// have no IPv6, the bridge drops IPv6 and every frame whose MAC or IPv4
// source is not the sending pod's, before it reaches these hooks.
//
// # Updates
//
// Sync diffs the compiled policies against what the table holds and sends
// the differences (set elements, map entries, classes added or deleted)
// in one nftables transaction: packets see the old or the new ruleset,
// never a mix, and new connections see the change when Sync returns.
//
// A Dataplane remembers what its last Sync programmed, and each Sync
// stamps the table with a random generation (the one element of set
// generation). The next Sync checks the stamp, the table's count of sets
// and chains and the base chains' rules (a few small netlink dumps) and
// diffs against memory when they match; a class whose boxes did not
// change costs a slice comparison. It reads the whole table back from the
// kernel only on its first Sync, or when another process synced the table
// (a different stamp) or someone changed its structure by hand, so any
// podsec process can still Sync. A table changed by hand beyond
// recognition is rebuilt in the same transaction; a hand edit of set
// elements alone goes unseen until a Sync reads the table back. A
// Dataplane keeps its netlink connection between Syncs (Close releases
// it). With no isolated pod left, Sync deletes the table; Remove deletes
// it unconditionally (podsec gc).
package netpol
