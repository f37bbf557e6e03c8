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
	mem *current
	nc  *nftables.Conn // see conn
}

// Stats counts what a Sync changed.
type Stats struct {
	Created        bool // the table was (re)created
	Removed        bool // the table was deleted: no pod is isolated
	ClassesAdded   int
	ClassesDeleted int
	ElemsAdded     int
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
// incremental Sync takes.
func (d *Dataplane) conn() (*nftables.Conn, error) {
	if d.nc == nil {
		nc, err := dial()
		if err != nil {
			return nil, err
		}
		d.nc = nc
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
// messages larger than the send buffer.
func dial() (*nftables.Conn, error) {
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
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20)
		})
		return errors.Join(err, serr)
	}))
}

// desired is a Compiled by the names of the table. Boxes become set
// elements only for the classes that changed.
type desired struct {
	classes map[string][]netpol.Box  // set/chain name -> boxes
	pods    [2]map[netip.Addr]string // by netpol.Direction: pod IP -> chain
}

func want(c *netpol.Compiled) desired {
	w := desired{classes: map[string][]netpol.Box{}}
	for _, dir := range []netpol.Direction{netpol.Ingress, netpol.Egress} {
		rules, pfx := c.Ingress, ingressPfx
		if dir == netpol.Egress {
			rules, pfx = c.Egress, egressPfx
		}
		for id, boxes := range rules.Classes {
			w.classes[pfx+id] = boxes
		}
		w.pods[dir] = map[netip.Addr]string{}
		for ip, id := range rules.Pods {
			w.pods[dir][ip] = pfx + id
		}
	}
	return w
}

// Sync makes the table hold the compiled policies, changing only what
// differs from what the kernel holds now, in one atomic transaction. When
// no pod is isolated, the table is deleted. New connections see the change
// as soon as Sync returns; established ones keep going (conntrack).
func (d *Dataplane) Sync(c *netpol.Compiled) (Stats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	nc, err := d.conn()
	if err != nil {
		return Stats{}, fmt.Errorf("syncing nftables table %s: %w", d.name, err)
	}
	st, err := d.sync(nc, c)
	if err != nil {
		d.closeConn() // drops what a failed batch left queued
	}
	return st, err
}

func (d *Dataplane) sync(nc *nftables.Conn, c *netpol.Compiled) (Stats, error) {
	var st Stats
	mem := d.mem
	d.mem = nil // until this Sync succeeds
	cur, readBack, err := d.current(nc, mem)
	if err != nil {
		return st, fmt.Errorf("syncing nftables table %s: reading it: %w", d.name, err)
	}
	st.ReadBack = readBack
	w := want(c)
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
	// Classes first (new chains before the map elements that jump to
	// them), then the pod maps, then the classes no pod uses any more.
	next := &current{exists: true, baseOK: true, classes: map[string][]nftables.SetElement{}, boxes: map[string][]netpol.Box{}, pods: w.pods, stamp: newStamp()}
	for _, name := range sortedKeys(w.classes) {
		boxes := w.classes[name]
		next.boxes[name] = boxes
		if old, ok := cur.boxes[name]; ok && slices.Equal(old, boxes) {
			next.classes[name] = cur.classes[name]
			continue
		}
		elems := boxElements(boxes)
		next.classes[name] = elems
		have, ok := cur.classes[name]
		if !ok {
			if err := d.addClass(nc, name, strings.HasPrefix(name, ingressPfx), elems); err != nil {
				return st, err
			}
			st.ClassesAdded++
			st.ElemsAdded += len(elems)
			continue
		}
		add, del := diffElements(have, elems)
		if len(add) == 0 && len(del) == 0 {
			continue
		}
		s := d.classSet(name)
		if err := deleteElements(nc, s, del); err != nil {
			return st, err
		}
		if err := addElements(nc, s, add); err != nil {
			return st, err
		}
		st.ElemsAdded += len(add)
		st.ElemsDeleted += len(del)
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
		if _, ok := w.classes[name]; ok {
			continue
		}
		nc.DelChain(&nftables.Chain{Name: name, Table: d.table()})
		nc.DelSet(d.classSet(name))
		st.ClassesDeleted++
	}
	next.objects = baseObjects + 2*uint32(len(w.classes))
	if err := d.restamp(nc, next.stamp); err != nil {
		return st, err
	}
	if err := nc.Flush(); err != nil {
		return st, fmt.Errorf("syncing nftables table %s: %w", d.name, err)
	}
	d.mem = next
	return st, nil
}

// diffElements are the elements of want that have lacks, and those of have
// that want lacks. Classes that did not change keep their elements in the
// same order, which is checked first without building maps.
func diffElements(have, want []nftables.SetElement) (add, del []nftables.SetElement) {
	if slices.EqualFunc(have, want, func(a, b nftables.SetElement) bool {
		return string(a.Key) == string(b.Key) && string(a.KeyEnd) == string(b.KeyEnd)
	}) {
		return nil, nil
	}
	haveIDs := make(map[string]bool, len(have))
	for _, e := range have {
		haveIDs[elemID(e)] = true
	}
	wantIDs := make(map[string]bool, len(want))
	for _, e := range want {
		id := elemID(e)
		wantIDs[id] = true
		if !haveIDs[id] {
			add = append(add, e)
		}
	}
	for _, e := range have {
		if !wantIDs[elemID(e)] {
			del = append(del, e)
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
	nc, err := d.conn()
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
