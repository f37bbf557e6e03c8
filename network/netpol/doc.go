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
//	    ip daddr vmap @ingress-pods
//	    ip daddr @ingress-pods drop }
//	chain input { hook input priority filter; policy accept
//	    ct state established,related accept
//	    ip saddr vmap @egress-pods }
//	set generation { mark . mark }             the stamp of the last Sync
//	set peers-<id> { ipv4_addr; flags interval }
//	chain ingress-<class> { ip saddr @peers-<id> tcp dport 5432 accept; ... }
//	chain egress-<class> { ip daddr @peers-<id> udp dport 53 return; ...; drop }
//
// A peer set holds the addresses that a rule's peers match (pods by
// selector, ipBlock cidrs minus their excepts, or for a named port of
// egress the peer pods on which it resolves to one port); its ID is a hash
// of what selects them, so every rule with the same peers shares it, and
// pods that come and go change its elements, not its name. A class is the
// rules (peer set, protocol, port range) of the pods whose policies allow
// the same connections; its name is a hash of its rules, so pods share
// it, and its rules never change under that name. The table's size is
// the sum of the policies' and the pods', not their product: the
// benchmark's 10,000 policies over 5,000 pods are 5,005 chains, 10,050
// rules and 560 peer sets of 7,500 ranges.
//
// A packet costs a conntrack lookup, a hash lookup per direction and, for
// an isolated pod, the rules of its class until one matches: one set
// lookup each, however many pods and policies there are. An ingress class
// accepts what a rule allows and returns otherwise, and the forward chain
// drops the rest for an isolated destination (a lookup of the map's keys),
// so a class costs no drop rule of its own; an egress class returns what
// a rule allows, for the destination's ingress to be checked next, and
// drops the rest. Only the first packet of a connection goes past the
// conntrack rule; replies and related ICMP pass there.
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
// diffs against memory when they match: it adds the classes and peer sets
// that are new, changes peer sets' ranges in place, repoints pods and
// deletes what nothing uses any more. It reads the table back from the
// kernel (the peer sets' elements, the names of the class chains, the pod
// maps) only on its first Sync, or when another process synced the table
// (a different stamp) or someone changed its structure by hand, so any
// podsec process can still Sync. A table changed by hand beyond
// recognition is rebuilt in the same transaction; a hand edit of set
// elements or of a class chain's rules alone goes unseen until a Sync
// reads the table back, and of a class chain's rules even then (its name
// says what it holds). A Dataplane keeps its netlink connection between
// Syncs (Close releases it). With no isolated pod left, Sync deletes the
// table; Remove deletes it unconditionally (podsec gc).
package netpol
