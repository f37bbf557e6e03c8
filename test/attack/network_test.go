package attack

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"hash/fnv"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Backends of the pod network: podsec's default network made in-process,
// and the same network through libcni and the CNI plugins.
const (
	inProcess = "in-process"
	viaCNI    = "cni"
)

// eachBackend runs a network test once per backend, as subtests.
func eachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, be := range []string{inProcess, viaCNI} {
		t.Run(be, func(t *testing.T) { fn(t, be) })
	}
}

// nodeBackends is the backend of each cniNode, by state root.
var nodeBackends sync.Map

// cniNode is a node whose pods join a network of their own: podsec's
// default network (bridge, firewall, portmap) on a bridge and a /24 no
// other test uses, so that concurrent runs never share addresses. Its
// conflist is written as podsec writes its default one, which podsec
// runs in-process, or (backend viaCNI) in another layout, which podsec
// hands to libcni and the plugins unchanged. It returns the node, the
// bridge and the gateway (the bridge's address).
func cniNode(t *testing.T, backend string) (*harness.Node, string, net.IP) {
	t.Helper()
	harness.RequireRoot(t)
	if b, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables"); err != nil || strings.TrimSpace(string(b)) != "1" {
		t.Fatal("NetworkPolicy needs br_netfilter with net.bridge.bridge-nf-call-iptables=1 (scripts/setup)")
	}
	b := make([]byte, 3)
	rand.Read(b)
	bridge := "psa" + hex.EncodeToString(b)
	// Registered before the node's cleanup, so it runs after the pods are
	// gone: podsec deletes only the bridge of its default network.
	var guard string
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", bridge, "type", "bridge").Run()
		if out, err := exec.Command("nft", "list", "table", "bridge", guard).CombinedOutput(); err == nil {
			t.Errorf("guard table %s left after delete and gc:\n%s", guard, out)
		}
	})
	n := harness.NewNode(t)
	guard = guardTable(n)
	routes, err := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		t.Fatal(err)
	}
	var subnet string
	for range 20 {
		x, _ := rand.Int(rand.Reader, big.NewInt(5))
		y, _ := rand.Int(rand.Reader, big.NewInt(256))
		p := fmt.Sprintf("10.%d.%d.", 250+x.Int64(), y.Int64())
		if !strings.Contains(string(routes), p) {
			subnet = p
			break
		}
	}
	if subnet == "" {
		t.Fatal("no free /24 in 10.250.0.0/13")
	}
	conf := map[string]any{
		"cniVersion": "1.0.0", "name": "podsec",
		"plugins": []any{
			map[string]any{"type": "bridge", "bridge": bridge, "isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{"type": "host-local", "dataDir": filepath.Join(n.Root, "network", "ipam"),
					"ranges": [][]map[string]string{{{"subnet": subnet + "0/24"}}}, "routes": []map[string]string{{"dst": "0.0.0.0/0"}}}},
			map[string]any{"type": "firewall", "backend": "iptables"},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true},
		},
	}
	j, _ := json.MarshalIndent(conf, "", "  ") // podsec's default conflist, byte for byte
	if backend == viaCNI {
		j, _ = json.Marshal(conf)
	}
	nodeBackends.Store(n.Root, backend)
	if err := os.MkdirAll(filepath.Join(n.Root, "net.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.Root, "net.d", "podsec.conflist"), j, 0o644); err != nil {
		t.Fatal(err)
	}
	return n, bridge, net.ParseIP(subnet + "1")
}

// guardTable is the node's bridge-family table that holds pods to their
// addresses (network.Manager.GuardTable).
func guardTable(n *harness.Node) string {
	h := fnv.New32a()
	h.Write([]byte(filepath.Join(n.Root, "network")))
	return fmt.Sprintf("podsec-guard-%08x", h.Sum32())
}

// netPod is a pod labelled app=APP whose one container "main" runs script
// in sh, with the attacker at /attacker; extra is added to the container.
func netPod(name, app, script, extra string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: %s}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sh, -c, %q]%s%s%s
`, name, app, script, extra, harness.AttackerMount, harness.AttackerVolume)
}

// webPolicy isolates app=web for ingress: only app=good may connect.
const webPolicy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-good}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: good}}
`

// detach runs a pod named name in the background on the CNI network and
// returns its IP.
func detach(t *testing.T, n *harness.Node, name, yaml string) net.IP {
	t.Helper()
	n.RunDetached(yaml, "--network", "cni")
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := n.Podsec("get", "pod", name, "-o", "json")
		var pod struct {
			Status struct{ PodIP string }
		}
		if err == nil && json.Unmarshal([]byte(out), &pod) == nil && pod.Status.PodIP != "" {
			checkBackend(t, n, name)
			return net.ParseIP(pod.Status.PodIP)
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s has no IP: %v\n%s", name, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const atk = "/attacker/attacker"

// checkBackend fails the test when the pod was attached by another
// backend than its node's: the test would not prove what it says.
func checkBackend(t *testing.T, n *harness.Node, name string) {
	t.Helper()
	want, ok := nodeBackends.Load(n.Root)
	if !ok {
		return
	}
	b, err := os.ReadFile(filepath.Join(n.Root, "network", "pods", "default_"+name+".json"))
	if err != nil {
		t.Fatalf("network record of pod %s: %v", name, err)
	}
	var rec struct{ InProcess bool }
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("network record of pod %s: %v", name, err)
	}
	if rec.InProcess != (want == inProcess) {
		t.Fatalf("pod %s attached with inProcess=%v, want backend %s", name, rec.InProcess, want)
	}
}

// TestNetworkIPv6LinkLocal: a pod that NetworkPolicy keeps from a server
// over IPv4 reached it over IPv6 link-local (every pod's eth0 had an fe80::
// address on the shared bridge, and the dataplane matched IPv4 only).
// Pods now have no IPv6 address, and the bridge drops IPv6 from pods.
func TestNetworkIPv6LinkLocal(t *testing.T) { eachBackend(t, testNetworkIPv6LinkLocal) }

func testNetworkIPv6LinkLocal(t *testing.T, backend string) {
	n, _, _ := cniNode(t, backend)
	n.MustPodsec("apply", "-f", n.Manifest(webPolicy))
	web := detach(t, n, "web", netPod("web", "web", atk+" tcp-serve 8080 120", ""))
	n.WaitLog("web", "main", "LISTENING", 20*time.Second)
	out := n.MustRun(netPod("good", "good", fmt.Sprintf("%s tcp-connect %s:8080", atk, web), ""), "--network", "cni")
	harness.ExpectLine(t, out, "[main] OK tcp-connect")
	out, _ = n.Run(netPod("bad", "bad", fmt.Sprintf("%[1]s tcp-connect %[2]s:8080; %[1]s connect6-ll %[2]s 8080", atk, web), ""), "--network", "cni")
	harness.ExpectLine(t, out, "[main] FAIL tcp-connect") // the policy holds over IPv4
	harness.ExpectLine(t, out, "[main] TARGET6 fe80::")   // the attack ran: it learned web's MAC
	harness.ExpectNoText(t, out, "OK connect6-ll")
	// The pod has no IPv6 on eth0 any more.
	harness.ExpectLine(t, out, "[main] FAIL connect6-ll: dial tcp [fe80::")
	harness.ExpectLine(t, out, "connect: network is unreachable")
	logs, _ := n.Podsec("logs", "web", "-c", "main")
	harness.ExpectNoText(t, logs, "ADDR6")
	harness.ExpectNoText(t, logs, "ACCEPTED [fe80")
}

// TestNetworkSpoofedSource: a pod with the default NET_RAW sent a UDP
// datagram whose source was the allowed pod's address, and the protected
// pod received it. The bridge now drops frames whose source is not the
// sending pod's.
func TestNetworkSpoofedSource(t *testing.T) { eachBackend(t, testNetworkSpoofedSource) }

func testNetworkSpoofedSource(t *testing.T, backend string) {
	n, _, _ := cniNode(t, backend)
	n.MustPodsec("apply", "-f", n.Manifest(webPolicy))
	web := detach(t, n, "web", netPod("web", "web", atk+" udp-listen 9999 120", ""))
	n.WaitLog("web", "main", "LISTENING", 20*time.Second)
	good := detach(t, n, "good", netPod("good", "good", fmt.Sprintf("%s udp-send %s 9999 from-good; sleep 120", atk, web), ""))
	n.WaitLog("web", "main", fmt.Sprintf("GOT %s from-good", good), 20*time.Second)
	if out, err := exec.Command("nft", "list", "table", "bridge", guardTable(n)).CombinedOutput(); err != nil || !strings.Contains(string(out), good.String()) {
		t.Errorf("no guard table %s holding %s: %v\n%s", guardTable(n), good, err, out)
	}
	out, _ := n.Run(netPod("bad", "bad", fmt.Sprintf("%[1]s udp-send %[2]s 9999 honest-bad; %[1]s udp-spoof %[3]s %[2]s 9999 spoofed-by-bad", atk, web, good), ""), "--network", "cni")
	harness.ExpectLine(t, out, "[main] OK udp-send")
	harness.ExpectLine(t, out, "[main] OK udp-spoof") // sent: the raw socket works
	time.Sleep(time.Second)
	logs, _ := n.Podsec("logs", "web", "-c", "main")
	harness.ExpectNoText(t, logs, "honest-bad") // the policy holds for the real source
	harness.ExpectNoText(t, logs, "spoofed-by-bad")
}

// TestNetworkARPSpoof: a pod broadcast gratuitous ARP claiming another
// pod's address, and its neighbours took its MAC for that address (their
// traffic to the pod went to the attacker). ARP from a pod must now carry
// the pod's own address.
func TestNetworkARPSpoof(t *testing.T) { eachBackend(t, testNetworkARPSpoof) }

func testNetworkARPSpoof(t *testing.T, backend string) {
	n, _, _ := cniNode(t, backend)
	good := detach(t, n, "good", netPod("good", "good", "sleep 120", ""))
	detach(t, n, "web", netPod("web", "web", fmt.Sprintf("%s arp-watch %s 120", atk, good), ""))
	before := n.WaitLog("web", "main", "BEFORE ", 20*time.Second)
	out, _ := n.Run(netPod("bad", "bad", fmt.Sprintf("%s garp %s 2", atk, good), ""), "--network", "cni")
	harness.ExpectLine(t, out, "[main] OK garp")
	goodMAC, badMAC := field(before, "BEFORE"), field(out, "[main] MAC")
	if goodMAC == "" || badMAC == "" || goodMAC == badMAC {
		t.Fatalf("MACs: good %q, bad %q\n%s\n%s", goodMAC, badMAC, before, out)
	}
	time.Sleep(time.Second)
	if logs, _ := n.Podsec("logs", "web", "-c", "main"); strings.Contains(logs, "CHANGED") {
		t.Fatalf("web's neighbour entry for %s (good, %s) changed; bad is %s: ARP spoofing worked\n%s", good, goodMAC, badMAC, logs)
	}
}

// field is the word after prefix on the first line that starts with it.
func field(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix+" ") {
			if f := strings.Fields(strings.TrimPrefix(l, prefix+" ")); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// TestNetworkNodeLocalhost is CVE-2020-8558: with a hostPort pod, portmap
// turns on route_localnet on the bridge, and the node took a pod's packet
// to 127.0.0.1 (a hand-made frame to the bridge's MAC, default NET_RAW) as
// its own, reaching services bound to 127.0.0.1 only. The same goes for
// IPv6 to the node's link-local address on the bridge. A frame to the
// gateway's IPv4 address, from the pod's own address, must still arrive.
func TestNetworkNodeLocalhost(t *testing.T) { eachBackend(t, testNetworkNodeLocalhost) }

func testNetworkNodeLocalhost(t *testing.T, backend string) {
	n, bridge, gw := cniNode(t, backend)
	local, err := listenUDP(t, "udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	control, err := listenUDP(t, "udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	v6, err := listenUDP(t, "udp6", "[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	hostPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	detach(t, n, "holder", netPod("holder", "holder", "sleep 120", fmt.Sprintf("\n    ports: [{containerPort: 80, hostPort: %d}]", hostPort)))
	rl, _ := os.ReadFile("/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet")
	if strings.TrimSpace(string(rl)) != "1" {
		t.Fatalf("route_localnet on %s is %q with a hostPort pod: the attack would prove nothing", bridge, rl)
	}
	ll := linkLocal(t, bridge)
	script := fmt.Sprintf("%[1]s frame udp4 own 127.0.0.1 %[2]d to-localhost; %[1]s frame udp4 own %[3]s %[4]d control",
		atk, local.port, gw, control.port)
	if ll != nil {
		script += fmt.Sprintf("; %s frame udp6 own %s %d to-node-v6", atk, ll, v6.port)
	} else {
		t.Logf("bridge %s has no IPv6 link-local address: the node has no IPv6 to reach", bridge)
	}
	out, _ := n.Run(netPod("bad", "bad", script, ""), "--network", "cni")
	if strings.Count(out, "[main] OK frame") != strings.Count(script, " frame ") {
		t.Fatalf("the pod could not send its frames:\n%s", out)
	}
	if got := control.wait("control", 3*time.Second); got == "" {
		t.Fatalf("the control frame to %s never reached the node, so the test proves nothing:\n%s", gw, out)
	}
	time.Sleep(500 * time.Millisecond)
	if got := local.got(); got != "" {
		t.Errorf("a node listener on 127.0.0.1 received from a pod: %s", got)
	}
	if got := v6.got(); got != "" {
		t.Errorf("a node listener on [::] received IPv6 from a pod: %s", got)
	}
}

// udpListener collects what a node-side UDP socket receives.
type udpListener struct {
	port int
	mu   sync.Mutex
	msgs []string
}

func listenUDP(t *testing.T, network, addr string) (*udpListener, error) {
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { pc.Close() })
	l := &udpListener{port: pc.LocalAddr().(*net.UDPAddr).Port}
	go func() {
		buf := make([]byte, 1500)
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, fmt.Sprintf("%q from %s", buf[:k], from))
			l.mu.Unlock()
		}
	}()
	return l, nil
}

func (l *udpListener) got() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "; ")
}

// wait waits (bounded) for a datagram holding want.
func (l *udpListener) wait(want string, d time.Duration) string {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if g := l.got(); strings.Contains(g, want) {
			return g
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ""
}

// linkLocal is an interface's fe80:: address, or nil.
func linkLocal(t *testing.T, name string) net.IP {
	t.Helper()
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := ifi.Addrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsLinkLocalUnicast() && ipn.IP.To4() == nil {
			return ipn.IP
		}
	}
	return nil
}
