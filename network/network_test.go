package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

func ref(name string) PodRef { return PodRef{Namespace: "default", Name: name, UID: "uid-" + name} }

// TestPodNetworking attaches two pods and checks their addresses and every
// path the issue asks for: pod to pod, node to pod, and TCP and UDP
// hostPorts on 127.0.0.1.
func TestPodNetworking(t *testing.T) { eachBackend(t, testPodNetworking) }

func testPodNetworking(t *testing.T, be Backend) {
	e := newEnv(t, be)
	ctx := context.Background()
	nsA, nsB := e.newNetNS(), e.newNetNS()
	tcpPort, udpPort := freePort(t, "TCP"), freePort(t, "UDP")
	a, err := e.m.Setup(ctx, ref("a"), nsA, []PortMapping{
		{HostPort: tcpPort, ContainerPort: 8080},
		{HostPort: udpPort, ContainerPort: 5353, Protocol: "udp"},
	})
	if err != nil {
		t.Fatalf("Setup(a): %v", err)
	}
	b, err := e.m.Setup(ctx, ref("b"), nsB, nil)
	if err != nil {
		t.Fatalf("Setup(b): %v", err)
	}
	_, subnet, _ := net.ParseCIDR(e.cfg.Subnet)
	for _, tc := range []struct {
		ns  string
		att *Attachment
	}{{nsA, a}, {nsB, b}} {
		if !subnet.Contains(tc.att.IP) {
			t.Errorf("Setup(%s).IP = %s, not in %s", tc.att.Pod, tc.att.IP, subnet)
		}
		ips := podIPs(t, tc.ns)
		if len(ips) != 1 || !ips[0].IP.Equal(tc.att.IP) {
			t.Errorf("eth0 of %s has %v, want %s", tc.att.Pod, ips, tc.att.IP)
		}
		if err := e.m.Check(ctx, tc.att.Pod); err != nil {
			t.Errorf("Check(%s): %v", tc.att.Pod, err)
		}
		if got, err := e.m.Get(tc.att.Pod); err != nil || got.Pending || !got.IP.Equal(tc.att.IP) || len(got.Result) == 0 {
			t.Errorf("Get(%s) = %+v, %v; want the recorded attachment", tc.att.Pod, got, err)
		}
	}
	if list, err := e.m.List(); err != nil || len(list) != 2 {
		t.Errorf("List() = %d attachments, %v; want 2", len(list), err)
	}

	serveTCP(t, nsA, 8080, "a")
	serveUDPEcho(t, nsA, 5353)
	for _, tc := range []struct {
		name, from, addr string
	}{
		{"pod to pod", nsB, net.JoinHostPort(a.IP.String(), "8080")},
		{"node to pod", "", net.JoinHostPort(a.IP.String(), "8080")},
		{"node to hostPort on 127.0.0.1", "", fmt.Sprintf("127.0.0.1:%d", tcpPort)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := greeting(tc.from, tc.addr)
			if err != nil || got != "hello from a" {
				t.Errorf("greeting(%q) = %q, %v; want %q", tc.addr, got, err, "hello from a")
			}
		})
	}
	t.Run("UDP hostPort on 127.0.0.1", func(t *testing.T) {
		addr := fmt.Sprintf("127.0.0.1:%d", udpPort)
		if got, err := udpEcho(addr, "ping"); err != nil || got != "ping" {
			t.Errorf("udpEcho(%q) = %q, %v; want ping", addr, got, err)
		}
	})

	for _, att := range []*Attachment{a, b} {
		if err := e.m.Teardown(ctx, att.Pod); err != nil {
			t.Fatalf("Teardown(%s): %v", att.Pod, err)
		}
		e.checkGone(att)
		if err := e.m.Teardown(ctx, att.Pod); err != nil {
			t.Errorf("second Teardown(%s): %v, want nil", att.Pod, err)
		}
	}
	if got := links(t, nsA); strings.Join(got, ",") != "lo" {
		t.Errorf("links of a's netns after Teardown = %v, want [lo]", got)
	}
}

// TestHostPortReservation checks that a hostPort is held by one pod only,
// that a refused pod gets nothing, and that Teardown frees the port.
func TestHostPortReservation(t *testing.T) { eachBackend(t, testHostPortReservation) }

func testHostPortReservation(t *testing.T, be Backend) {
	e := newEnv(t, be)
	ctx := context.Background()
	port := freePort(t, "TCP")
	holder := PodRef{Namespace: "default", Name: "kubia-hostport"}
	if _, err := e.m.Setup(ctx, holder, e.newNetNS(), []PortMapping{{HostPort: port, ContainerPort: 8080}}); err != nil {
		t.Fatalf("Setup(holder): %v", err)
	}
	before := ipamFiles(e)
	for _, tc := range []struct {
		name string
		pm   PortMapping
		want string // "" when Setup must succeed
	}{
		{"same port", PortMapping{HostPort: port, ContainerPort: 80, Protocol: "TCP"},
			fmt.Sprintf("hostPort %d/TCP is already held by pod default/kubia-hostport", port)},
		{"one hostIP within every address", PortMapping{HostPort: port, ContainerPort: 80, HostIP: "127.0.0.1"},
			fmt.Sprintf("hostPort 127.0.0.1:%d/TCP is already held by pod default/kubia-hostport", port)},
		{"other protocol", PortMapping{HostPort: port, ContainerPort: 80, Protocol: "UDP"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PodRef{Namespace: "other", Name: strings.ReplaceAll(tc.name, " ", "-")}
			ns := e.newNetNS()
			att, err := e.m.Setup(ctx, p, ns, []PortMapping{tc.pm})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Setup(%s, %s): %v", p, tc.pm, err)
				}
				if err := e.m.Teardown(ctx, p); err != nil {
					t.Fatalf("Teardown(%s): %v", p, err)
				}
				e.checkGone(att)
				return
			}
			if !errors.Is(err, ErrPortConflict) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Setup(%s, %s) = %v, want ErrPortConflict %q", p, tc.pm, err, tc.want)
			}
			if _, err := e.m.Get(p); !errors.Is(err, ErrNotAttached) {
				t.Errorf("Get(%s) after refusal: %v, want ErrNotAttached", p, err)
			}
			if got := links(t, ns); strings.Join(got, ",") != "lo" {
				t.Errorf("links of refused pod's netns = %v, want [lo]", got)
			}
			if got := ipamFiles(e); got != before {
				t.Errorf("IPAM allocations after refusal = %d, want %d", got, before)
			}
		})
	}

	t.Run("port in use on the node", func(t *testing.T) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		busy := int32(ln.Addr().(*net.TCPAddr).Port)
		p := ref("busy")
		_, err = e.m.Setup(ctx, p, e.newNetNS(), []PortMapping{{HostPort: busy, ContainerPort: 80}})
		if !errors.Is(err, ErrPortInUse) {
			t.Fatalf("Setup(%s, hostPort %d held by a listener) = %v, want ErrPortInUse", p, busy, err)
		}
	})

	t.Run("freed by Teardown", func(t *testing.T) {
		if err := e.m.Teardown(ctx, holder); err != nil {
			t.Fatalf("Teardown(%s): %v", holder, err)
		}
		p := ref("next")
		ns := e.newNetNS()
		att, err := e.m.Setup(ctx, p, ns, []PortMapping{{HostPort: port, ContainerPort: 8080}})
		if err != nil {
			t.Fatalf("Setup(%s) after the holder's Teardown: %v", p, err)
		}
		serveTCP(t, ns, 8080, "next")
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if got, err := greeting("", addr); err != nil || got != "hello from next" {
			t.Errorf("greeting(%q) = %q, %v; want %q", addr, got, err, "hello from next")
		}
		if err := e.m.Teardown(ctx, p); err != nil {
			t.Fatalf("Teardown(%s): %v", p, err)
		}
		e.checkGone(att)
	})
}

func ipamFiles(e *env) int {
	ents, _ := os.ReadDir(e.m.ipamDir() + "/" + e.m.list.Name)
	n := 0
	for _, ent := range ents {
		if net.ParseIP(ent.Name()) != nil {
			n++
		}
	}
	return n
}

// TestTeardownFromRecord tears pods down with a fresh Manager, as a podsec
// started after one that was killed would: once with the pod's netns still
// mounted, once with it gone (the sandbox died with the old podsec).
func TestTeardownFromRecord(t *testing.T) { eachBackend(t, testTeardownFromRecord) }

func testTeardownFromRecord(t *testing.T, be Backend) {
	for _, tc := range []struct {
		name      string
		netnsGone bool
	}{{"netns mounted", false}, {"netns gone", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, be)
			ctx := context.Background()
			ns := e.newNetNS()
			p := ref("killed")
			a, err := e.m.Setup(ctx, p, ns, []PortMapping{
				{HostPort: freePort(t, "TCP"), ContainerPort: 80},
				{HostPort: freePort(t, "UDP"), ContainerPort: 53, Protocol: "UDP"},
			})
			if err != nil {
				t.Fatalf("Setup(%s): %v", p, err)
			}
			// CNI's rules name the container, the in-process NAT
			// table the pod's address.
			if rules, mark := ruleset(t), leftoverMark(be, a); !strings.Contains(rules, mark) {
				t.Fatalf("no rule names %s after Setup; the leftover checks would prove nothing", mark)
			}
			if tc.netnsGone {
				if err := unmountNetNS(ns); err != nil {
					t.Fatal(err)
				}
			}
			fresh, err := New(e.cfg)
			if err != nil {
				t.Fatalf("New(%+v): %v", e.cfg, err)
			}
			if list, err := fresh.List(); err != nil || len(list) != 1 || list[0].ContainerID != a.ContainerID {
				t.Fatalf("fresh List() = %v, %v; want the attachment of %s", list, err, p)
			}
			if err := fresh.Teardown(ctx, p); err != nil {
				t.Fatalf("fresh Teardown(%s): %v", p, err)
			}
			e.checkGone(a)
		})
	}
}

// TestGC tears down the attachments of pods that are no longer alive.
func TestGC(t *testing.T) { eachBackend(t, testGC) }

func testGC(t *testing.T, be Backend) {
	e := newEnv(t, be)
	ctx := context.Background()
	live, dead := ref("live"), ref("dead")
	if _, err := e.m.Setup(ctx, live, e.newNetNS(), nil); err != nil {
		t.Fatalf("Setup(%s): %v", live, err)
	}
	d, err := e.m.Setup(ctx, dead, e.newNetNS(), []PortMapping{{HostPort: freePort(t, "TCP"), ContainerPort: 80}})
	if err != nil {
		t.Fatalf("Setup(%s): %v", dead, err)
	}
	if _, err := e.m.Setup(ctx, dead, e.newNetNS(), nil); !errors.Is(err, ErrAttached) {
		t.Errorf("second Setup(%s) = %v, want ErrAttached", dead, err)
	}
	if err := e.m.GC(ctx, func(p PodRef) bool { return p == live }); err != nil {
		t.Fatalf("GC: %v", err)
	}
	e.checkGone(d)
	if _, err := e.m.Get(live); err != nil {
		t.Errorf("Get(%s) after GC: %v, want its attachment", live, err)
	}
}

// TestSetupInvalid checks that Setup refuses bad requests and records
// nothing for them.
func TestSetupInvalid(t *testing.T) { eachBackend(t, testSetupInvalid) }

func testSetupInvalid(t *testing.T, be Backend) {
	e := newEnv(t, be)
	ctx := context.Background()
	notNS := e.dir + "/not-a-netns"
	if err := os.WriteFile(notNS, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		pod   PodRef
		netns string
		ports []PortMapping
	}{
		{"not a netns", ref("x"), notNS, nil},
		{"bad pod name", PodRef{Namespace: "default", Name: "a/../b"}, e.newNetNS(), nil},
		{"bad protocol", ref("x"), e.newNetNS(), []PortMapping{{HostPort: 80, ContainerPort: 80, Protocol: "ICMP"}}},
		{"port twice", ref("x"), e.newNetNS(), []PortMapping{{HostPort: 81, ContainerPort: 80}, {HostPort: 81, ContainerPort: 90, HostIP: "127.0.0.1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.m.Setup(ctx, tc.pod, tc.netns, tc.ports); !errors.Is(err, ErrInvalid) {
				t.Errorf("Setup(%s, %s, %v) = %v, want ErrInvalid", tc.pod, tc.netns, tc.ports, err)
			}
			if list, _ := e.m.List(); len(list) != 0 {
				t.Errorf("List() after a refused Setup = %v, want none", list)
			}
		})
	}
}

// leftoverMark is what the rules of an attachment name.
func leftoverMark(be Backend, a *Attachment) string {
	if be == BackendInProcess {
		return "dnat to " + a.IP.String()
	}
	return a.ContainerID
}

// TestSetupRollback makes Setup fail once the pod has its address and
// veth, and checks that it undoes them: with CNI the last plugin
// (portmap) fails on ADD, although libcni caches no result for a failed
// ADD; in-process the failure comes after the veth and the default route.
func TestSetupRollback(t *testing.T) { eachBackend(t, testSetupRollback) }

func testSetupRollback(t *testing.T, be Backend) {
	requireNode(t)
	if be == BackendInProcess {
		inProcessFailpoint = func() error { return errors.New("injected failure") }
		defer func() { inProcessFailpoint = nil }()
	}
	bin := t.TempDir()
	for _, p := range []string{"bridge", "host-local", "firewall"} {
		if err := os.Symlink("/usr/lib/cni/"+p, bin+"/"+p); err != nil {
			t.Fatal(err)
		}
	}
	fake := "#!/bin/sh\nif [ \"$CNI_COMMAND\" = ADD ]; then echo '{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"injected failure\"}'; exit 1; fi\nexit 0\n"
	if err := os.WriteFile(bin+"/portmap", []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, be, func(c *Config) { c.BinDirs = []string{bin} })
	ctx := context.Background()
	ns := e.newNetNS()
	_, err := e.m.Setup(ctx, ref("rollback"), ns, []PortMapping{{HostPort: freePort(t, "TCP"), ContainerPort: 80}})
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Setup with a failing portmap = %v, want its error", err)
	}
	if list, _ := e.m.List(); len(list) != 0 {
		t.Errorf("List() after a failed Setup = %v, want none", list)
	}
	if got := links(t, ns); strings.Join(got, ",") != "lo" {
		t.Errorf("links of the pod's netns after a failed Setup = %v, want [lo]", got)
	}
	if n := ipamFiles(e); n != 0 {
		t.Errorf("IPAM allocations after a failed Setup = %d, want 0", n)
	}
	if rules := ruleset(t); strings.Contains(rules, strings.TrimSuffix(e.cfg.Subnet, ".0/24")+".") {
		t.Errorf("rules naming the pod subnet after a failed Setup:\n%s", grep(rules, strings.TrimSuffix(e.cfg.Subnet, ".0/24")))
	}
}
