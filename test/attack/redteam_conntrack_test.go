package attack

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podsec/podsec/test/harness"
)

// TestRedteamNetworkConntrackReuse: a pod's flows outlived it in the
// node's conntrack table. The attacker runs two pods: "bad", which keeps a
// UDP flow going to "old", and "old", which answers once, so the node's
// conntrack holds the flow as established. The attacker deletes "old";
// its address goes back to the pool and a busy node hands it to the next
// pod (the test sets host-local's last reserved address, as churn would):
// "web", which NetworkPolicy shields from app=bad. The NetworkPolicy
// dataplane, as every stateful firewall, lets established flows pass
// before it judges a packet, so bad's datagrams, matched to the dead
// pod's entry, reached web's UDP server. Both backends left the entries:
// neither the bridge plugin nor the in-process network removes a pod's
// conntrack state (Calico and Cilium do). Entries of a pod's address are
// now deleted when the pod leaves the network and when an address is
// given to a pod, before any of its containers runs. The controls: "good"
// reaches web, and "bad"'s flow had its reply from "old".
func TestRedteamNetworkConntrackReuse(t *testing.T) { eachBackend(t, testRedteamNetworkConntrackReuse) }

func testRedteamNetworkConntrackReuse(t *testing.T, backend string) {
	n, _, _ := cniNode(t, backend)
	n.MustPodsec("apply", "-f", n.Manifest(webPolicy))
	oldIP := detach(t, n, "old", netPod("old", "old", atk+" rt3-udp-echo 9999 120", ""))
	n.WaitLog("old", "main", "LISTENING", 20*time.Second)
	// bad asks for the address's MAC every second (ARP from its own
	// addresses, which the guard lets through), so that its kernel sends
	// the flow to whoever holds the address now.
	detach(t, n, "bad", netPod("bad", "bad", fmt.Sprintf("%[1]s rt3-udp-flow %[2]s 9999 120 stale-flow & "+
		"while sleep 1; do arping -c 1 -w 1 -I eth0 %[2]s >/dev/null 2>&1; done", atk, oldIP), ""))
	n.WaitLog("bad", "main", "REPLY ECHO stale-flow", 20*time.Second) // established
	n.MustPodsec("delete", "pod", "old")
	// The next address host-local hands out is the dead pod's.
	prev := make(net.IP, 4)
	binary.BigEndian.PutUint32(prev, binary.BigEndian.Uint32(oldIP.To4())-1)
	last := filepath.Join(n.Root, "network", "ipam", "podsec", "last_reserved_ip.0")
	if err := os.WriteFile(last, []byte(prev.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	webIP := detach(t, n, "web", netPod("web", "web", atk+" udp-listen 9999 120", ""))
	if !webIP.Equal(oldIP) {
		t.Fatalf("pod web got %s, not the dead pod's %s: the test would prove nothing", webIP, oldIP)
	}
	n.WaitLog("web", "main", "LISTENING", 20*time.Second)
	out := n.MustRun(netPod("good", "good", fmt.Sprintf("%s udp-send %s 9999 from-good", atk, webIP), ""), "--network", "cni")
	harness.ExpectLine(t, out, "[main] OK udp-send")
	n.WaitLog("web", "main", "from-good", 20*time.Second)
	// bad sends five datagrams a second all along, and has web's MAC
	// within a second or two: a few seconds are dozens of datagrams.
	time.Sleep(4 * time.Second)
	logs, _ := n.Podsec("logs", "web", "-c", "main")
	if strings.Contains(logs, "stale-flow") {
		t.Fatalf("a flow opened to a deleted pod reached the pod that got its address, through NetworkPolicy:\n%s", logs)
	}
}
