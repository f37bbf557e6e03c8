package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/podsec/podsec/internal/netnstest"
	"github.com/podsec/podsec/network"
	"github.com/podsec/podsec/spec"
)

// netEnv is a runtime with a pod network of its own: a random bridge and
// /24, its CNI configuration in the test's directory.
type netEnv struct {
	rt   *Runtime
	nw   *network.Manager
	root string
	out  *syncBuffer
	fwd  []byte
}

func newNetEnv(t *testing.T) *netEnv {
	t.Helper()
	requireRoot(t)
	e := &netEnv{root: testRoot(t), out: &syncBuffer{}}
	fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	e.fwd = fwd
	for range 10 {
		cfg := network.Config{
			StateDir: filepath.Join(e.root, "network"),
			ConfDir:  filepath.Join(e.root, "net.d"),
			Bridge:   "psr" + netnstest.RandomID(3),
			Subnet:   netnstest.FreePrefix(t, 150, 190, 24).String(),
		}
		if e.nw, err = network.New(cfg); !errors.Is(err, network.ErrSubnetOverlap) {
			break
		}
	}
	if err != nil {
		t.Fatalf("network.New: %v", err)
	}
	e.rt, err = New(Config{Root: e.root, Images: testImages{}, Output: e.out, Network: e.nw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.nw.Close(context.Background()); err != nil {
			t.Errorf("network Close: %v", err)
		}
		os.WriteFile("/proc/sys/net/ipv4/ip_forward", e.fwd, 0o644)
		links, _ := netlink.LinkList()
		for _, l := range links {
			if strings.HasPrefix(l.Attrs().Name, "veth") && l.Attrs().MasterIndex != 0 {
				if br, err := netlink.LinkByIndex(l.Attrs().MasterIndex); err == nil && strings.HasPrefix(br.Attrs().Name, "psr") {
					t.Errorf("veth %s left on %s", l.Attrs().Name, br.Attrs().Name)
				}
			}
		}
	})
	return e
}

// gateway is the node's address on the test's bridge: a pod reaches the
// node's hostPorts there.
func (e *netEnv) gateway(p *Pod) string {
	a, err := e.nw.Get(podRef(p.Pod()))
	if err != nil || a.Gateway == nil {
		return "0.0.0.0"
	}
	return a.Gateway.String()
}

func (e *netEnv) start(t *testing.T, manifest string) *Pod {
	t.Helper()
	pods, err := spec.DecodePods(strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.rt.Start(context.Background(), pods[0])
	if err != nil {
		t.Fatalf("Start(%s): %v", pods[0].Name, err)
	}
	t.Cleanup(func() {
		p.Stop(0)
		p.Wait()
		if err := p.Cleanup(); err != nil {
			t.Errorf("Cleanup(%s): %v", pods[0].Name, err)
		}
		assertClean(t, e.root, pods[0])
	})
	return p
}

func (e *netEnv) run(t *testing.T, manifest string) (Result, error) {
	t.Helper()
	pods, err := spec.DecodePods(strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.rt.Run(context.Background(), pods[0])
	assertClean(t, e.root, pods[0])
	return res, err
}

// waitFor polls the node side until probe succeeds, at most 5 s.
func waitFor(t *testing.T, what string, probe func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = probe(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

// fetch gets a URL with busybox wget from the node, bounded by timeout.
func fetch(url string) (string, error) {
	out, err := exec.Command("timeout", "3", "busybox", "wget", "-q", "-O", "-", url).CombinedOutput()
	return string(out), err
}

const server = `
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo served by $(hostname) > /tmp/index.html; httpd -f -p 8080 -h /tmp"]
    ports: [{containerPort: 8080%s}]
`

func TestPodNetwork(t *testing.T) {
	e := newNetEnv(t)
	a := e.start(t, fmt.Sprintf(server, "web-a", ", hostPort: 9000"))
	if a.IP() == nil {
		t.Fatal("pod web-a has no IP")
	}
	// Node to pod, by the pod's IP, and to its hostPort on 127.0.0.1.
	waitFor(t, "node to pod IP", func() error {
		out, err := fetch(fmt.Sprintf("http://%s:8080/", a.IP()))
		if err == nil && !strings.Contains(out, "served by web-a") {
			err = fmt.Errorf("got %q", out)
		}
		return err
	})
	waitFor(t, "node to hostPort on 127.0.0.1", func() error {
		out, err := fetch("http://127.0.0.1:9000/")
		if err == nil && !strings.Contains(out, "served by web-a") {
			err = fmt.Errorf("got %q", out)
		}
		return err
	})
	// Pod to pod, by IP; the client's /etc/hosts names itself by its IP.
	res, err := e.run(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "timeout 3 wget -q -O - http://%s:8080/ && grep client /etc/hosts && timeout 3 wget -q -O - http://%s:9000/ | sed s/^/hostport:/"]
`, a.IP(), e.gateway(a)))
	if err != nil || res.ExitCode != 0 || !strings.Contains(e.out.String(), "[main] served by web-a") || !strings.Contains(e.out.String(), "[main] hostport:served by web-a") {
		t.Fatalf("pod to pod: %v, exit %d, output %q", err, res.ExitCode, e.out.String())
	}
	if strings.Contains(e.out.String(), "127.0.1.1") {
		t.Errorf("the pod's /etc/hosts does not name it by its IP: %q", e.out.String())
	}
	// A second pod asking for the held hostPort is refused, naming the
	// holder, and nothing of it is made.
	_, err = e.run(t, fmt.Sprintf(server, "web-b", ", hostPort: 9000"))
	if err == nil || !strings.Contains(err.Error(), "hostPort 9000/TCP is already held by pod default/web-a") {
		t.Fatalf("second pod on hostPort 9000: %v, want a refusal naming default/web-a", err)
	}
	if _, err := os.Stat(filepath.Join(e.root, "pods", "default", "web-b")); !os.IsNotExist(err) {
		t.Errorf("the refused pod left its directory: %v", err)
	}
}

func TestHostPortFreedAfterPodEnds(t *testing.T) {
	e := newNetEnv(t)
	for _, name := range []string{"first", "second"} {
		res, err := e.run(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["true"]
    ports: [{containerPort: 80, hostPort: 9001, protocol: UDP}]
`, name))
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("pod %s on UDP hostPort 9001: %v, exit %d", name, err, res.ExitCode)
		}
	}
}

func TestHostNetworkSeesNodeInterfaces(t *testing.T) {
	e := newNetEnv(t)
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.run(t, `
apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "ls /sys/class/net"]
`)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("hostNetwork pod: %v, exit %d", err, res.ExitCode)
	}
	for _, l := range links[:min(3, len(links))] {
		if !strings.Contains(e.out.String(), l.Attrs().Name) {
			t.Errorf("hostNetwork pod does not see the node's %s: %q", l.Attrs().Name, e.out.String())
		}
	}
}
