package netpol

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/policy/netpol"
)

// DefaultTable is the name of the dataplane's table (family inet).
const DefaultTable = "podsec-netpol"

// bridgeNFCall is the sysctl that makes bridged IPv4 traffic cross the
// inet hooks.
const bridgeNFCall = "/proc/sys/net/bridge/bridge-nf-call-iptables"

// ErrNoBridgeNetfilter is returned when bridged traffic would bypass the
// dataplane: br_netfilter is not loaded or bridge-nf-call-iptables is 0.
var ErrNoBridgeNetfilter = errors.New("bridged traffic does not cross netfilter (load br_netfilter and set net.bridge.bridge-nf-call-iptables=1)")

// Config configures a Dataplane.
type Config struct {
	// Table is the name of the inet table the dataplane owns
	// (DefaultTable when empty). Tests use their own.
	Table string
}

// Dataplane programs NetworkPolicies into the node's nftables. Its methods
// may be called from several goroutines; several processes may Sync the
// same table, the last one wins.
type Dataplane struct {
	name string
	mu   sync.Mutex
	// mem is what the last successful Sync left in the kernel, stamped
	// with mem.stamp; nil until then, and after a failed Sync. Sync reads
	// the kernel back only when mem is nil or the table's stamp, object
	// count or base chains say someone else changed it.
	mem   *current
	nc    *nftables.Conn // see conn
	ncBuf int            // nc's receive buffer
}

// Stats counts what a Sync changed.
type Stats struct {
	Created        bool // the table was (re)created
	Removed        bool // the table was deleted: no pod is isolated
	ClassesAdded   int
	ClassesDeleted int
	PeersAdded     int // peer sets
	PeersDeleted   int
	ElemsAdded     int // address ranges of peer sets
	ElemsDeleted   int
	PodsChanged    int // pod map entries added, changed or deleted, by direction
	// ReadBack: the table was listed from the kernel, because the
	// dataplane had not synced it yet or someone else changed it since.
	ReadBack bool
}

// New returns the dataplane of a table. It touches nothing until Sync.
func New(cfg Config) (*Dataplane, error) {
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	if len(cfg.Table) > 200 || strings.ContainsAny(cfg.Table, " \t\n\x00") {
		return nil, fmt.Errorf("invalid nftables table name %q", cfg.Table)
	}
	return &Dataplane{name: cfg.Table}, nil
}

// Table is the name of the dataplane's inet table.
func (d *Dataplane) Table() string { return d.name }

// CheckNode checks that bridged pod traffic crosses the inet hooks, which
// needs br_netfilter with net.bridge.bridge-nf-call-iptables=1.
func CheckNode() error {
	b, err := os.ReadFile(bridgeNFCall)
	if err != nil || strings.TrimSpace(string(b)) != "1" {
		return ErrNoBridgeNetfilter
	}
	return nil
}

// conn is the dataplane's netlink connection, opened by its first Sync
// and kept until Close: closing a netlink socket that committed a
// transaction waits for the kernel (about 10 ms here), more than an
// incremental Sync takes. A Sync that needs a larger receive buffer than
// the connection has opens a new one.
func (d *Dataplane) conn(rcvbuf int) (*nftables.Conn, error) {
	if d.nc != nil && d.ncBuf < rcvbuf {
		d.closeConn()
	}
	if d.nc == nil {
		nc, err := dial(rcvbuf)
		if err != nil {
			return nil, err
		}
		d.nc, d.ncBuf = nc, rcvbuf
	}
	return d.nc, nil
}

func (d *Dataplane) closeConn() {
	if d.nc != nil {
		d.nc.CloseLasting()
		d.nc = nil
	}
}

// Close releases the dataplane's netlink connection; the table stays. A
// later Sync opens a new one.
func (d *Dataplane) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closeConn()
	return nil
}

// dial opens a netlink connection whose buffers hold a batch of a large
// ruleset: the batch is sent with one sendmsg, and the kernel refuses
// messages larger than the send buffer; its acks wait in the receive
// buffer until the kernel has processed the whole batch.
func dial(rcvbuf int) (*nftables.Conn, error) {
	return nftables.New(nftables.AsLasting(), nftables.WithSockOptions(func(c *netlink.Conn) error {
		rc, err := c.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		err = rc.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 64<<20); serr != nil {
				return
			}
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf)
		})
		return errors.Join(err, serr)
	}))
}

// desired is a Compiled by the names of the table.
type desired struct {
	peers   map[string][]netpol.AddrRange // set name -> ranges
	classes map[string][]netpol.Match     // chain name -> matches
	pods    [2]map[netip.Addr]string      // by netpol.Direction: pod IP -> chain
}

func want(c *netpol.Compiled) desired {
	w := desired{peers: make(map[string][]netpol.AddrRange, len(c.Peers)), classes: map[string][]netpol.Match{}}
	for id, rs := range c.Peers {
		w.peers[peersPfx+id] = rs
	}
	for _, dir := range []netpol.Direction{netpol.Ingress, netpol.Egress} {
		rules, pfx := c.Ingress, ingressPfx
		if dir == netpol.Egress {
			rules, pfx = c.Egress, egressPfx
		}
		for id, ms := range rules.Classes {
			w.classes[pfx+id] = ms
		}
		w.pods[dir] = make(map[netip.Addr]string, len(rules.Pods))
		for ip, id := range rules.Pods {
			w.pods[dir][ip] = pfx + id
		}
	}
	return w
}

// peerOrder is the peer sets' names, those that more class rules look up
// first. The kernel finds a rule's set by name in a list of the table's
// sets, in the order they were added: at 10,000 policies, walking it in
// the order of the names took a fifth of the first Sync.
func (w desired) peerOrder() []string {
	refs := make(map[string]int, len(w.peers))
	for _, ms := range w.classes {
		for _, m := range ms {
			refs[peersPfx+m.Peers]++
		}
	}
	names := sortedKeys(w.peers)
	slices.SortStableFunc(names, func(a, b string) int { return refs[b] - refs[a] })
	return names
}

// rcvbuf is the receive buffer that the batch building the whole table
// needs (a Sync that changes less needs less). The kernel acks every
// message of a batch and echoes every rule, about a kilobyte of buffer
// each (it doubles what it is given, for its overhead). Without room for
// them it drops them and the Sync fails with ENOBUFS, as 20,000 policies
// over 10,000 pods did with a fixed 16 MiB.
func (w desired) rcvbuf() int {
	msgs := 16 + 2*len(w.peers) + (len(w.pods[netpol.Ingress])+len(w.pods[netpol.Egress]))/elemChunk
	for _, rs := range w.peers {
		msgs += 2 * len(rs) / elemChunk
	}
	for _, ms := range w.classes {
		msgs += 1 + 2*(len(ms)+1) // the chain; each rule, acked and echoed
	}
	return max(16<<20, msgs<<10)
}

// Sync makes the table hold the compiled policies, changing only what
// differs from what the kernel holds now, in one atomic transaction. When
// no pod is isolated, the table is deleted. New connections see the change
// as soon as Sync returns; established ones keep going (conntrack).
func (d *Dataplane) Sync(c *netpol.Compiled) (Stats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := want(c)
	nc, err := d.conn(w.rcvbuf())
	if err != nil {
		return Stats{}, fmt.Errorf("syncing nftables table %s: %w", d.name, err)
	}
	st, err := d.sync(nc, w)
	if err != nil {
		d.closeConn() // drops what a failed batch left queued
	}
	return st, err
}

func (d *Dataplane) sync(nc *nftables.Conn, w desired) (Stats, error) {
	var st Stats
	mem := d.mem
	d.mem = nil // until this Sync succeeds
	cur, readBack, err := d.current(nc, mem)
	if err != nil {
		return st, fmt.Errorf("syncing nftables table %s: reading it: %w", d.name, err)
	}
	st.ReadBack = readBack
	if len(w.pods[netpol.Ingress]) == 0 && len(w.pods[netpol.Egress]) == 0 {
		if cur.exists {
			nc.DelTable(d.table())
			if err := nc.Flush(); err != nil {
				return st, fmt.Errorf("deleting nftables table %s: %w", d.name, err)
			}
			st.Removed = true
		}
		empty := newCurrent()
		d.mem = &empty
		return st, nil
	}
	if err := CheckNode(); err != nil {
		return st, err
	}
	maps := [2]*nftables.Set{}
	if !cur.exists || !cur.baseOK {
		if cur.exists {
			nc.DelTable(d.table())
		}
		cur = newCurrent()
		if maps[netpol.Ingress], maps[netpol.Egress], err = d.buildBase(nc); err != nil {
			return st, err
		}
		st.Created = true
	} else {
		maps[netpol.Ingress], maps[netpol.Egress] = d.podMap(ingressMap), d.podMap(egressMap)
	}
	// Peer sets first, then the classes whose rules look them up, then
	// the pod maps that jump to the classes; then what is left unused, in
	// the reverse order.
	next := &current{exists: true, baseOK: true, peers: w.peers, classes: make(map[string]bool, len(w.classes)), pods: w.pods, stamp: newStamp()}
	for _, name := range w.peerOrder() {
		rs := w.peers[name]
		have, ok := cur.peers[name]
		if !ok {
			s := d.peerSet(name)
			if err := nc.AddSet(s, nil); err != nil {
				return st, err
			}
			if err := addElements(nc, s, rangeElements(rs)); err != nil {
				return st, err
			}
			st.PeersAdded++
			st.ElemsAdded += len(rs)
			continue
		}
		add, del := diffRanges(have, rs)
		if len(add) == 0 && len(del) == 0 {
			continue
		}
		s := d.peerSet(name)
		if err := deleteElements(nc, s, rangeElements(del)); err != nil {
			return st, err
		}
		if err := addElements(nc, s, rangeElements(add)); err != nil {
			return st, err
		}
		st.ElemsAdded += len(add)
		st.ElemsDeleted += len(del)
	}
	for _, name := range sortedKeys(w.classes) {
		next.classes[name] = true
		if !cur.classes[name] {
			d.addClass(nc, name, strings.HasPrefix(name, ingressPfx), w.classes[name])
			st.ClassesAdded++
		}
	}
	for dir := range w.pods {
		var add, del []nftables.SetElement
		for ip, chain := range cur.pods[dir] {
			if w.pods[dir][ip] != chain {
				del = append(del, nftables.SetElement{Key: addrKey(ip)})
			}
		}
		for ip, chain := range w.pods[dir] {
			if cur.pods[dir][ip] != chain {
				add = append(add, nftables.SetElement{Key: addrKey(ip), VerdictData: jump(chain)})
			}
		}
		if err := deleteElements(nc, maps[dir], del); err != nil {
			return st, err
		}
		if err := addElements(nc, maps[dir], add); err != nil {
			return st, err
		}
		st.PodsChanged += len(add)
		for _, e := range del {
			ip, _ := netip.AddrFromSlice(e.Key)
			if _, ok := w.pods[dir][ip]; !ok {
				st.PodsChanged++ // deleted, not replaced
			}
		}
	}
	for _, name := range sortedKeys(cur.classes) {
		if _, ok := w.classes[name]; !ok {
			nc.DelChain(&nftables.Chain{Name: name, Table: d.table()})
			st.ClassesDeleted++
		}
	}
	for _, name := range sortedKeys(cur.peers) {
		if _, ok := w.peers[name]; !ok {
			nc.DelSet(d.peerSet(name))
			st.PeersDeleted++
		}
	}
	next.objects = baseObjects + uint32(len(w.peers)+len(w.classes))
	if err := d.restamp(nc, next.stamp); err != nil {
		return st, err
	}
	if err := nc.Flush(); err != nil {
		return st, fmt.Errorf("syncing nftables table %s: %w", d.name, err)
	}
	d.mem = next
	return st, nil
}

// diffRanges are the ranges of want that have lacks, and those of have
// that want lacks. Both are sorted and disjoint, and ranges neither
// overlap nor touch, so a range that grew is one deleted and one added:
// the kernel's interval set then holds no two elements with one key.
func diffRanges(have, want []netpol.AddrRange) (add, del []netpol.AddrRange) {
	i, j := 0, 0
	for i < len(have) || j < len(want) {
		switch {
		case j == len(want) || i < len(have) && have[i].From.Less(want[j].From):
			del = append(del, have[i])
			i++
		case i == len(have) || want[j].From.Less(have[i].From):
			add = append(add, want[j])
			j++
		case have[i] == want[j]:
			i++
			j++
		default: // same start, another end
			del, add = append(del, have[i]), append(add, want[j])
			i++
			j++
		}
	}
	return add, del
}

// Remove deletes the dataplane's table, if any: no pod is isolated any
// more.
func (d *Dataplane) Remove() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mem = nil
	nc, err := d.conn(16 << 20)
	if err != nil {
		return fmt.Errorf("deleting nftables table %s: %w", d.name, err)
	}
	defer d.closeConn()
	if _, err := nc.ListTableOfFamily(d.name, nftables.TableFamilyINet); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("deleting nftables table %s: %w", d.name, err)
	}
	nc.DelTable(d.table())
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("deleting nftables table %s: %w", d.name, err)
	}
	d.mem = nil
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
