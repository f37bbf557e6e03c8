package attack

import (
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRedteamNetworkBroadcast: NetworkPolicy judges a packet by the
// address it is sent to (ip daddr vmap @ingress-pods), and a broadcast or
// multicast address is no pod's. A pod that the policy keeps from a UDP
// server sent its datagrams to 255.255.255.255, to the pod subnet's
// broadcast address and to 224.0.0.1 (all hosts, which every interface
// has joined): the bridge flooded them to the protected pod, whose socket
// on 0.0.0.0 received them all, and so did it the subnet broadcast in a
// frame sent to its own MAC (so matching the Ethernet destination would
// not do). The guard now drops IPv4 from pods to broadcast and multicast
// addresses. The controls: the allowed pod's
// unicast arrives, and the denied pod's own unicast does not (the policy
// holds there), so the test cannot pass because nothing arrives at all.
func TestRedteamNetworkBroadcast(t *testing.T) { eachBackend(t, testRedteamNetworkBroadcast) }

func testRedteamNetworkBroadcast(t *testing.T, backend string) {
	n, _, gw := cniNode(t, backend)
	n.MustPodsec("apply", "-f", n.Manifest(webPolicy))
	webIP := detach(t, n, "web", netPod("web", "web", atk+" udp-listen 9999 120", ""))
	n.WaitLog("web", "main", "LISTENING", 20*time.Second)
	good := detach(t, n, "good", netPod("good", "good", fmt.Sprintf("%s udp-send %s 9999 from-good; sleep 120", atk, webIP), ""))
	n.WaitLog("web", "main", fmt.Sprintf("GOT %s from-good", good), 20*time.Second)
	g := gw.To4()
	subnetBcast := net.IPv4(g[0], g[1], g[2], 255) // cniNode's networks are /24s
	script := fmt.Sprintf("%[1]s udp-send %[2]s 9999 unicast-bad; %[1]s udp-send 255.255.255.255 9999 limited-bcast; "+
		"%[1]s udp-send %[3]s 9999 subnet-bcast; %[1]s udp-send 224.0.0.1 9999 all-hosts-mcast; "+
		"%[1]s rt2-frame-to %[2]s %[3]s 9999 unicast-frame-bcast",
		atk, webIP, subnetBcast)
	out, _ := n.Run(netPod("bad", "bad", script, ""), "--network", "cni")
	if c := strings.Count(out, "[main] OK udp-send"); c != 4 || !strings.Contains(out, "[main] OK rt2-frame-to") {
		t.Fatalf("the denied pod did not send all its probes:\n%s", out)
	}
	time.Sleep(time.Second)
	logs, _ := n.Podsec("logs", "web", "-c", "main")
	for _, msg := range []string{"unicast-bad", "limited-bcast", "subnet-bcast", "all-hosts-mcast", "unicast-frame-bcast"} {
		harness.ExpectNoText(t, logs, msg)
	}
}

// TestRedteamNetworkSharedIPAM: two state roots on one node share the CNI
// network (the same conflist, as /etc/cni/net.d is shared by default), so
// host-local keeps both roots' allocations in the data directory the
// conflist names, the first root's. When a podsec of that root ended with
// no pod of its own attached, it removed the whole directory, the other
// root's allocations with it: the next pod got the address of a pod still
// running, and with it what NetworkPolicy allows that address (and the
// guard holds it to that address as its own). IPAM data holding
// allocations is now left in place.
func TestRedteamNetworkSharedIPAM(t *testing.T) { eachBackend(t, testRedteamNetworkSharedIPAM) }

func testRedteamNetworkSharedIPAM(t *testing.T, backend string) {
	a, _, _ := cniNode(t, backend)
	b := harness.NewNode(t)
	conf, err := os.ReadFile(filepath.Join(a.Root, "net.d", "podsec.conflist"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(b.Root, "net.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Root, "net.d", "podsec.conflist"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	good := detach(t, b, "good", netPod("good", "good", "sleep 120", ""))
	a.MustRun(netPod("once", "once", "true", ""), "--network", "cni") // root a's podsec ends with no pod
	bad := detach(t, b, "bad", netPod("bad", "bad", "sleep 120", ""))
	if bad.Equal(good) {
		t.Fatalf("pod bad got %s, the address of pod good, which still runs", bad)
	}
}
