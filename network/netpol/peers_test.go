package netpol

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/podsec/podsec/internal/netnstest"
	"github.com/podsec/podsec/policy/netpol"
)

// TestPeerSetRanges changes a peer set's ranges in place, through the
// edge cases of an interval set (a range from 0.0.0.0, one up to
// 255.255.255.255, a range that grows or moves its start), and checks
// after each Sync that the kernel holds the ranges: a second dataplane
// reads the table back and finds nothing to change, and nft prints them.
func TestPeerSetRanges(t *testing.T) {
	requireNode(t)
	table := "podsec-netpol-test-" + netnstest.RandomID(3)
	dp, err := New(Config{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dp.Remove(); err != nil {
			t.Error(err)
		}
	})
	a := netip.MustParseAddr
	r := func(from, to string) netpol.AddrRange { return netpol.AddrRange{From: a(from), To: a(to)} }
	compiled := func(rs ...netpol.AddrRange) *netpol.Compiled {
		return &netpol.Compiled{
			Peers: map[string][]netpol.AddrRange{"t": rs},
			Ingress: netpol.Rules{
				Classes: map[string][]netpol.Match{"c": {{Peers: "t", Proto: 6, PortFrom: 80, PortTo: 80}}},
				Pods:    map[netip.Addr]string{a("10.255.0.1"): "c"},
			},
			Egress: netpol.Rules{Classes: map[string][]netpol.Match{}, Pods: map[netip.Addr]string{}},
		}
	}
	for _, tc := range []struct {
		name   string
		ranges []netpol.AddrRange
		nft    string // as nft lists the set's elements (prefixes where it can)
	}{
		{"edges", []netpol.AddrRange{r("0.0.0.0", "0.0.0.5"), r("10.0.0.10", "10.0.0.10"), r("200.0.0.0", "255.255.255.255")},
			"0.0.0.0-0.0.0.5, 10.0.0.10, 200.0.0.0-255.255.255.255"},
		{"grown", []netpol.AddrRange{r("0.0.0.0", "0.0.0.5"), r("10.0.0.10", "10.0.0.11"), r("200.0.0.0", "255.255.255.255")},
			"0.0.0.0-0.0.0.5, 10.0.0.10/31, 200.0.0.0-255.255.255.255"},
		{"start moved", []netpol.AddrRange{r("10.0.0.9", "10.0.0.11"), r("200.0.0.1", "255.255.255.254")},
			"10.0.0.9-10.0.0.11, 200.0.0.1-255.255.255.254"},
		{"moved past its end", []netpol.AddrRange{r("10.0.0.12", "10.0.0.20")}, "10.0.0.12-10.0.0.20"},
		{"back", []netpol.AddrRange{r("0.0.0.0", "0.0.0.5"), r("10.0.0.10", "10.0.0.10"), r("200.0.0.0", "255.255.255.255")},
			"0.0.0.0-0.0.0.5, 10.0.0.10, 200.0.0.0-255.255.255.255"},
	} {
		c := compiled(tc.ranges...)
		st, err := dp.Sync(c)
		if err != nil {
			t.Fatalf("%s: Sync: %v", tc.name, err)
		}
		t.Logf("%s: %+v", tc.name, st)
		other, err := New(Config{Table: table})
		if err != nil {
			t.Fatal(err)
		}
		st, err = other.Sync(c)
		other.Close()
		if err != nil {
			t.Fatalf("%s: Sync from another dataplane: %v", tc.name, err)
		}
		if !st.ReadBack || st.Created || st.ElemsAdded != 0 || st.ElemsDeleted != 0 || st.PeersAdded != 0 || st.ClassesAdded != 0 {
			t.Errorf("%s: Sync(same ranges, read back) = %+v, want no change", tc.name, st)
		}
		out, err := exec.Command("nft", "list", "set", "inet", table, peersPfx+"t").CombinedOutput()
		if err != nil {
			t.Fatalf("nft list set: %v: %s", err, out)
		}
		if !strings.Contains(strings.Join(strings.Fields(string(out)), " "), "elements = { "+tc.nft+" }") {
			t.Errorf("%s: nft list set shows\n%s\nwant elements %s", tc.name, out, tc.nft)
		}
	}
}
