package attack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/podsec/podsec/test/harness"
)

// TestRedteamNetworkCNIAdmin: the node's administrator keeps iptables
// rules of their own in CNI-ADMIN, the chain CNI's firewall plugin (in
// podsec's default conflist) sends pod traffic through before anything
// else, here a drop of what pod "bad" sends to pod "web" (a node
// database, the cloud's metadata address). Through the CNI plugins the
// rule held; in-process, the default since the merge, nothing jumped to
// CNI-ADMIN and bad's datagrams arrived. The in-process network now
// jumps to CNI-ADMIN for its subnet's traffic where the chain exists. The
// control: "good", which the rule does not name, reaches web.
func TestRedteamNetworkCNIAdmin(t *testing.T) { eachBackend(t, testRedteamNetworkCNIAdmin) }

func testRedteamNetworkCNIAdmin(t *testing.T, backend string) {
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Fatal("iptables is missing (scripts/setup)")
	}
	// A chain this test made goes once nothing refers to it (registered
	// first, so it runs after the pods are gone); the rule goes first.
	made := false
	t.Cleanup(func() {
		if made {
			exec.Command("iptables", "-X", "CNI-ADMIN").Run()
		}
	})
	n, _, gw := cniNode(t, backend)
	made = exec.Command("iptables", "-N", "CNI-ADMIN").Run() == nil
	g := gw.To4()
	bad, web := fmt.Sprintf("%d.%d.%d.3", g[0], g[1], g[2]), fmt.Sprintf("%d.%d.%d.2", g[0], g[1], g[2])
	b := make([]byte, 4)
	rand.Read(b)
	rule := []string{"CNI-ADMIN", "-s", bad, "-d", web, "-m", "comment", "--comment", "podsec-attack-" + hex.EncodeToString(b), "-j", "DROP"}
	if out, err := exec.Command("iptables", append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables -I %v: %v\n%s", rule, err, out)
	}
	t.Cleanup(func() { exec.Command("iptables", append([]string{"-D"}, rule...)...).Run() })
	webIP := detach(t, n, "web", netPod("web", "web", atk+" udp-listen 9999 120", ""))
	if webIP.String() != web {
		t.Fatalf("pod web got %s, not %s: the administrator's rule names another address", webIP, web)
	}
	n.WaitLog("web", "main", "LISTENING", 20*time.Second)
	badIP := detach(t, n, "bad", netPod("bad", "bad", fmt.Sprintf("%s udp-send %s 9999 from-bad; sleep 120", atk, web), ""))
	if badIP.String() != bad {
		t.Fatalf("pod bad got %s, not %s: the administrator's rule names another address", badIP, bad)
	}
	n.WaitLog("bad", "main", "OK udp-send", 20*time.Second)
	out := n.MustRun(netPod("good", "good", fmt.Sprintf("%s udp-send %s 9999 from-good", atk, web), ""), "--network", "cni")
	harness.ExpectLine(t, out, "[main] OK udp-send")
	n.WaitLog("web", "main", "from-good", 20*time.Second)
	logs, _ := n.Podsec("logs", "web", "-c", "main")
	harness.ExpectNoText(t, logs, "from-bad")
}
