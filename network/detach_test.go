package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestTeardownLastPodDeletesBridge: in-process, the bridge and the
// FORWARD rules (made on a node with a CNI-ADMIN chain) stay while a pod
// is attached and go with the last pod's Teardown, before Close.
func TestTeardownLastPodDeletesBridge(t *testing.T) {
	withCNIAdmin(t) // before the env: its cleanup then runs after the env's
	e := newEnv(t, BackendInProcess)
	ctx := context.Background()
	for _, p := range []string{"a", "b"} {
		if _, err := e.m.Setup(ctx, ref(p), e.newNetNS(), nil); err != nil {
			t.Fatalf("Setup(%s): %v", p, err)
		}
	}
	if err := e.m.Teardown(ctx, ref("a")); err != nil {
		t.Fatalf("Teardown(a): %v", err)
	}
	if _, err := netlink.LinkByName(e.cfg.Bridge); err != nil {
		t.Fatalf("bridge %s after Teardown(a), with b attached: %v", e.cfg.Bridge, err)
	}
	if n := e.forwardRules(t); n != 2 {
		t.Errorf("after Teardown(a), with b attached: %d FORWARD rules of the network, want its 2 jumps to %s", n, cniAdminChain)
	}
	if err := e.m.Teardown(ctx, ref("b")); err != nil {
		t.Fatalf("Teardown(b): %v", err)
	}
	if _, err := netlink.LinkByName(e.cfg.Bridge); err == nil {
		t.Errorf("bridge %s left after the last pod's Teardown", e.cfg.Bridge)
	}
	if n := e.forwardRules(t); n != 0 {
		t.Errorf("%d FORWARD rules of the network left after the last pod's Teardown", n)
	}
}

// TestDeleteBridge: the bridge goes with the veth going, in one batch,
// and never while another interface is on it; links of the node outside
// the batch stay.
func TestDeleteBridge(t *testing.T) {
	requireNode(t)
	for _, tc := range []struct {
		name     string
		ports    int  // veths on the bridge; the first is the one going
		going    bool // name the first veth as going
		wantDone bool
		wantGone bool // the bridge is gone
	}{
		{name: "empty", wantGone: true},
		{name: "its veth going", ports: 1, going: true, wantDone: true, wantGone: true},
		{name: "a veth not going", ports: 1},
		{name: "another veth on it", ports: 2, going: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, 3)
			rand.Read(b)
			id := hex.EncodeToString(b)
			br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "pdb" + id}}
			if err := netlink.LinkAdd(br); err != nil {
				t.Fatal(err)
			}
			names := []string{"pdb" + id}
			// A veth pair of the node's, on no bridge: never deleted.
			by := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "pdy" + id}, PeerName: "pdz" + id}
			if err := netlink.LinkAdd(by); err != nil {
				t.Fatal(err)
			}
			names = append(names, by.Name)
			var veths []string
			for i := range tc.ports {
				v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "pdv" + id + string(rune('0'+i)), MasterIndex: br.Attrs().Index},
					PeerName: "pdp" + id + string(rune('0'+i))}
				if err := netlink.LinkAdd(v); err != nil {
					t.Fatal(err)
				}
				veths = append(veths, v.Name)
				names = append(names, v.Name)
			}
			t.Cleanup(func() {
				for _, n := range names {
					if l, err := netlink.LinkByName(n); err == nil {
						netlink.LinkDel(l)
					}
				}
			})
			going := ""
			if tc.going {
				going = veths[0]
			}
			done, err := deleteBridge(br.Name, going)
			if err != nil || done != tc.wantDone {
				t.Fatalf("deleteBridge(%s, %q) = %v, %v, want %v, nil", br.Name, going, done, err, tc.wantDone)
			}
			_, err = netlink.LinkByName(br.Name)
			if gone := err != nil; gone != tc.wantGone {
				t.Errorf("after deleteBridge(%s, %q): bridge gone = %v, want %v", br.Name, going, gone, tc.wantGone)
			}
			for _, n := range append([]string{by.Name}, veths...) {
				wantGone := n == going && tc.wantDone
				if _, err := netlink.LinkByName(n); (err != nil) != wantGone {
					t.Errorf("after deleteBridge(%s, %q): %s gone = %v, want %v", br.Name, going, n, err != nil, wantGone)
				}
			}
		})
	}
}
