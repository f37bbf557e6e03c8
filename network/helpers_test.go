package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/netnstest"
)

// ioTimeout bounds every network wait of the tests.
const ioTimeout = 3 * time.Second

// requireNode fails on CI, and skips elsewhere, when the test cannot run:
// it needs root, the CNI plugins and iptables.
func requireNode(tb testing.TB) {
	tb.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, p := range []string{"bridge", "host-local", "firewall", "portmap"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/cni", p)); err != nil {
			missing = append(missing, "CNI plugin "+p+" (Debian package containernetworking-plugins)")
		}
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		missing = append(missing, "iptables")
	}
	netnstest.Require(tb, missing...)
}

// env is one test's pod network: its own bridge and /24, its own state and
// conf dirs, and the network namespaces of its fake pods. Its cleanup tears
// every pod down, closes the manager and fails the test on anything left.
type env struct {
	tb     testing.TB
	tables map[string]*nftTable // before the test
	fwd    []byte               // net.ipv4.ip_forward before the test
	m      *Manager
	cfg    Config
	dir    string
	netnss []string
}

func newEnv(tb testing.TB, be Backend) *env {
	tb.Helper()
	return newEnvWith(tb, be, nil)
}

// backends are the two ways podsec attaches pods; the network tests run
// with each.
var backends = []Backend{BackendInProcess, BackendCNI}

// eachBackend runs fn as a subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, be Backend)) {
	for _, be := range backends {
		t.Run(string(be), func(t *testing.T) { fn(t, be) })
	}
}

// newEnvWith is newEnv with a change to the Config.
func newEnvWith(tb testing.TB, be Backend, change func(*Config)) *env {
	tb.Helper()
	requireNode(tb)
	e := &env{tb: tb, dir: tb.TempDir(), tables: nftTables(tb)}
	var err error
	if e.fwd, err = os.ReadFile(ipForward); err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	// Parallel test runs must not clash: a random bridge and a random /24
	// that no route of the node overlaps (checked by New).
	for range 10 {
		e.cfg = Config{
			StateDir: filepath.Join(e.dir, "state"),
			ConfDir:  filepath.Join(e.dir, "net.d"),
			Bridge:   "pst" + hex.EncodeToString(b),
			Subnet:   fmt.Sprintf("10.%d.%d.0/24", 200+netnstest.RandInt(50), netnstest.RandInt(256)),
			Backend:  be,
		}
		if change != nil {
			change(&e.cfg)
		}
		if e.m, err = New(e.cfg); !errors.Is(err, ErrSubnetOverlap) {
			break
		}
	}
	if err != nil {
		tb.Fatalf("New(%+v): %v", e.cfg, err)
	}
	tb.Cleanup(e.cleanup)
	return e
}

func (e *env) cleanup() {
	tb := e.tb
	ctx := context.Background()
	recs, _ := e.m.List()
	if err := e.m.GC(ctx, func(PodRef) bool { return false }); err != nil {
		tb.Errorf("GC: %v", err)
	}
	for _, a := range recs {
		e.checkGone(a)
	}
	if br, err := netlink.LinkByName(e.cfg.Bridge); err == nil {
		links, _ := netlink.LinkList()
		for _, l := range links {
			if l.Attrs().MasterIndex == br.Attrs().Index {
				tb.Errorf("veth %s left on bridge %s after every Teardown", l.Attrs().Name, e.cfg.Bridge)
			}
		}
	}
	if n := ipamFiles(e); n > 0 {
		tb.Errorf("%d IPAM allocations left after every Teardown", n)
	}
	for _, p := range e.netnss {
		unix.Unmount(p, unix.MNT_DETACH)
	}
	if err := e.m.Close(ctx); err != nil {
		tb.Errorf("Close: %v", err)
	}
	if _, err := netlink.LinkByName(e.cfg.Bridge); err == nil {
		tb.Errorf("bridge %s left after Close", e.cfg.Bridge)
	}
	rules := ruleset(tb)
	for _, s := range []string{e.cfg.Bridge, e.cfg.Subnet} {
		if strings.Contains(rules, s) {
			tb.Errorf("rules mentioning %s left after Close:\n%s", s, grep(rules, s))
		}
	}
	if ents, _ := os.ReadDir(e.m.ipamDir()); len(ents) > 0 {
		tb.Errorf("IPAM data left after Close: %v", ents)
	}
	removeNewEmptyTables(tb, e.tables)
	// The bridge plugin turns forwarding on for pods' traffic beyond the
	// node; the tests need none (pods share the bridge, the node reaches
	// them directly), so the node gets its setting back.
	if err := os.WriteFile(ipForward, e.fwd, 0o644); err != nil {
		tb.Errorf("restoring %s: %v", ipForward, err)
	}
}

const ipForward = "/proc/sys/net/ipv4/ip_forward"

// checkGone fails the test if anything of a torn-down attachment is left:
// its record, a veth on the bridge, its IPAM allocation, or a rule naming
// its IP or container ID.
func (e *env) checkGone(a *Attachment) {
	tb := e.tb
	tb.Helper()
	if _, err := e.m.Get(a.Pod); !errors.Is(err, ErrNotAttached) {
		tb.Errorf("Get(%s) after Teardown: %v, want ErrNotAttached", a.Pod, err)
	}
	var res types100.Result
	if err := json.Unmarshal(a.Result, &res); err == nil {
		for _, i := range res.Interfaces {
			if i.Sandbox != "" || i.Name == e.cfg.Bridge {
				continue
			}
			// A namespace that is gone takes its veth pair with it, but
			// the kernel destroys namespaces asynchronously.
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, err := netlink.LinkByName(i.Name)
				if err != nil {
					break
				}
				if time.Now().After(deadline) {
					tb.Errorf("veth %s of %s left after Teardown", i.Name, a.Pod)
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	if a.IP != nil {
		if _, err := os.Stat(filepath.Join(e.m.ipamDir(), a.Network, a.IP.String())); err == nil {
			tb.Errorf("IPAM allocation %s of %s left after Teardown", a.IP, a.Pod)
		}
	}
	rules := ruleset(tb)
	if strings.Contains(rules, a.ContainerID) {
		tb.Errorf("rules naming container %s left after Teardown(%s):\n%s", a.ContainerID, a.Pod, grep(rules, a.ContainerID))
	}
	if a.IP != nil {
		re := regexp.MustCompile(`(^|[^0-9.])` + regexp.QuoteMeta(a.IP.String()) + `([^0-9.]|$)`)
		if re.MatchString(rules) {
			tb.Errorf("rules naming pod IP %s left after Teardown(%s):\n%s", a.IP, a.Pod, grep(rules, a.IP.String()))
		}
	}
}

// ruleset is iptables-save and nft list ruleset together.
func ruleset(tb testing.TB) string {
	tb.Helper()
	var all []byte
	for _, c := range [][]string{{"iptables-save"}, {"nft", "list", "ruleset"}} {
		out, err := exec.Command(c[0], c[1:]...).CombinedOutput()
		if err != nil {
			tb.Fatalf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
		all = append(all, out...)
	}
	return string(all)
}

func grep(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
