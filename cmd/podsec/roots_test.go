package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podsec/podsec/internal/netnstest"
)

// TestTwoRootsShareNetwork: two state roots (--root) on one node share
// the default network, as two roots sharing /etc/cni/net.d do: the same
// conflist, bridge, subnet and host-local data. The administrator drops,
// in CNI-ADMIN, what pods send to port 8080 of a namespace beyond the
// node. A pod of root B runs; a pod of root A runs to its end, and A's
// podsec closes with no pod left. From inside B's container, port 8080
// stays out of reach and port 8081 (the control, which the drop does not
// name) is reached, before and after. Before, A's last pod took every
// FORWARD rule of the bridge out, B's jumps to CNI-ADMIN with them, and
// B's pod reached port 8080 (unless another runtime's firewall plugin
// happened to send all forwarded traffic through CNI-ADMIN: B's jumps
// are counted too).
func TestTwoRootsShareNetwork(t *testing.T) {
	id := netnstest.RandomID(3)
	bridge, outNS, hostIf := "psr"+id, "psr-out-"+id, "psro"+id
	// Registered before the nodes', so they run after the pods are gone.
	made := exec.Command("iptables", "-N", "CNI-ADMIN").Run() == nil
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", bridge).Run()
		exec.Command("ip", "link", "del", hostIf).Run()
		exec.Command("ip", "netns", "del", outNS).Run()
		if made {
			exec.Command("iptables", "-X", "CNI-ADMIN").Run()
		}
	})
	a, b := newNode(t), newNode(t)
	subnet := netnstest.FreePrefix(t, 200, 250, 24)
	conf, err := json.MarshalIndent(map[string]any{
		"cniVersion": "1.0.0", "name": "podsec",
		"plugins": []any{
			map[string]any{"type": "bridge", "bridge": bridge, "isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{"type": "host-local", "dataDir": filepath.Join(a.root, "network", "ipam"),
					"ranges": [][]map[string]string{{{"subnet": subnet.String()}}}, "routes": []map[string]string{{"dst": "0.0.0.0/0"}}}},
			map[string]any{"type": "firewall", "backend": "iptables"},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true},
		},
	}, "", "  ") // podsec's default conflist, byte for byte: the in-process network runs it
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{a, b} {
		if err := os.MkdirAll(filepath.Join(n.root, "net.d"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(n.root, "net.d", "podsec.conflist"), conf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The namespace beyond the node, reached through FORWARD.
	p := netnstest.FreePrefix(t, 150, 200, 30)
	nodeAddr, outAddr := p.Addr().Next(), p.Addr().Next().Next()
	for _, c := range [][]string{
		{"netns", "add", outNS},
		{"link", "add", hostIf, "type", "veth", "peer", "name", "out0", "netns", outNS},
		{"addr", "add", nodeAddr.String() + "/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", outNS, "addr", "add", outAddr.String() + "/30", "dev", "out0"},
		{"-n", outNS, "link", "set", "out0", "up"},
	} {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	for _, port := range []int{8080, 8081} {
		netnstest.ServeTCP(t, "/run/netns/"+outNS, port, func(c net.Conn) {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprintf(c, "hello from outside\n")
			c.Close()
		})
	}
	drop := []string{"CNI-ADMIN", "-d", outAddr.String(), "-p", "tcp", "--dport", "8080",
		"-m", "comment", "--comment", "podsec-test-" + id, "-j", "DROP"}
	if out, err := exec.Command("iptables", append([]string{"-I"}, drop...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables -I %v: %v: %s", drop, err, out)
	}
	t.Cleanup(func() { exec.Command("iptables", append([]string{"-D"}, drop...)...).Run() })

	// On the pod network: the node's podsec adds --network none to run.
	run := func(n *testNode, args ...string) {
		t.Helper()
		f := filepath.Join(n.root, "pod.yaml")
		if err := os.WriteFile(f, []byte(args[len(args)-1]), 0o600); err != nil {
			t.Fatal(err)
		}
		full := append([]string{"--root", n.root, "--cni-conf-dir", filepath.Join(n.root, "net.d"), "run"}, args[:len(args)-1]...)
		if out, err := exec.Command(n.bin, append(full, "-f", f)...).CombinedOutput(); err != nil {
			t.Fatalf("podsec --root %s run: %v\n%s", n.root, err, out)
		}
	}
	pod := func(name string, command string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  terminationGracePeriodSeconds: 1\n"+
			"  containers:\n  - name: main\n    image: localhost/busybox:latest\n    command: [sh, -c, %q]\n", name, command)
	}
	t.Cleanup(func() { b.podsec("delete", "pod", "--all") }) // before the nodes' cleanup: with the conflist still there
	run(b, "-d", pod("b", "exec sleep 300"))
	check := func(when string) {
		t.Helper()
		// Another runtime's firewall plugin (CNI-FORWARD) may send all
		// traffic through CNI-ADMIN too: B's own jumps are counted.
		fw, err := exec.Command("iptables", "-S", "FORWARD").CombinedOutput()
		if err != nil {
			t.Fatalf("iptables -S FORWARD: %v: %s", err, fw)
		}
		jumps := 0
		for _, l := range strings.Split(string(fw), "\n") {
			if strings.Contains(l, subnet.String()) && strings.Contains(l, "podsec: pods of "+bridge) && strings.HasSuffix(l, "-j CNI-ADMIN") {
				jumps++
			}
		}
		if jumps != 2 {
			t.Errorf("%s: %d FORWARD jumps to CNI-ADMIN for the pods' subnet, want root B's 2:\n%s", when, jumps, fw)
		}
		for _, port := range []string{"8081", "8080"} {
			out, err := b.podsec("exec", "b", "--", "sh", "-c", fmt.Sprintf("timeout 3 nc %s %s", outAddr, port))
			reached := err == nil && strings.Contains(out, "hello from outside")
			if want := port == "8081"; reached != want {
				t.Errorf("%s: pod b reached %s:%s = %v (%v: %q), want %v (CNI-ADMIN drops 8080)", when, outAddr, port, reached, err, out, want)
			}
		}
	}
	check("before root A's pod")
	run(a, pod("a", "true")) // root A's podsec ends with no pod of its own
	check("after root A's last pod and its podsec's end")
}
