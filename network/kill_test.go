package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// crashChildEnv carries a crashChild's orders to the re-executed test
// binary.
const crashChildEnv = "PODSEC_NETWORK_CRASH_CHILD"

// crashChild is what a child process sets up before it kills itself.
type crashChild struct {
	Config Config
	NetNS  string
	Pod    PodRef
	Ports  []PortMapping
}

func TestMain(m *testing.M) {
	if s := os.Getenv(crashChildEnv); s != "" {
		os.Exit(runCrashChild(s))
	}
	os.Exit(m.Run())
}

// runCrashChild sets the pod up and is killed (SIGKILL, by itself) once
// the pod has its address, veth, route and the root's FORWARD rules, and
// before the record is committed: what a podsec killed there leaves.
func runCrashChild(orders string) int {
	var c crashChild
	if err := json.Unmarshal([]byte(orders), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	m, err := New(c.Config)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	inProcessFailpoint = func() error {
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {}
	}
	_, err = m.Setup(context.Background(), c.Pod, c.NetNS, c.Ports)
	fmt.Fprintln(os.Stderr, "Setup returned:", err)
	return 3
}

// TestGCAfterKilledSetup: a podsec of root A is killed (SIGKILL) in the
// middle of a pod's Setup, with a pod of root B on the bridge. What it
// left (a pending record, the veth, the address, the hostPort's
// registration, root A's FORWARD rules) is there; GC of root A removes
// all of it, and root B's pod keeps its address, veth and FORWARD rules.
func TestGCAfterKilledSetup(t *testing.T) {
	withCNIAdmin(t)
	a := newEnv(t, BackendInProcess)
	b := a.otherRoot(t)
	ctx := context.Background()
	if _, err := b.m.Setup(ctx, ref("b"), a.newNetNS(), nil); err != nil {
		t.Fatalf("Setup(b) in root B: %v", err)
	}
	orders, err := json.Marshal(crashChild{Config: a.cfg, NetNS: a.newNetNS(), Pod: ref("a"),
		Ports: []PortMapping{{HostPort: freePort(t, "TCP"), ContainerPort: 8080, Protocol: "TCP"}}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+string(orders))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child setting pod a up: %v, want killed by SIGKILL: %s", err, out)
	}
	rec, err := a.m.readRecord(ref("a"))
	if err != nil || rec == nil || !rec.Pending {
		t.Fatalf("pod a's record after the kill: %+v, %v; want it pending", rec, err)
	}
	if _, err := netlink.LinkByName(rec.HostIf); err != nil {
		t.Fatalf("pod a's veth %s after the kill: %v; want it left", rec.HostIf, err)
	}
	ip := a.m.allocatedIP(rec.ContainerID)
	if ip == nil {
		t.Fatalf("pod a's address after the kill: none held; want it left")
	}
	if n := a.forwardRules(t); n != 2 {
		t.Fatalf("root A's FORWARD rules after the kill: %d, want its 2", n)
	}
	if err := a.m.GC(ctx, func(PodRef) bool { return false }); err != nil {
		t.Fatalf("GC of root A: %v", err)
	}
	if rec, err := a.m.readRecord(ref("a")); err != nil || rec != nil {
		t.Errorf("pod a's record after GC: %+v, %v; want none", rec, err)
	}
	if _, err := netlink.LinkByName(rec.HostIf); err == nil {
		t.Errorf("pod a's veth %s left after GC", rec.HostIf)
	}
	if _, err := os.Stat(filepath.Join(a.m.ipam().dir, ip.String())); err == nil {
		t.Errorf("pod a's address %s still held after GC", ip)
	}
	if n := a.forwardRules(t); n != 0 {
		t.Errorf("root A's FORWARD rules after GC: %d, want none", n)
	}
	if err := b.m.Check(ctx, ref("b")); err != nil {
		t.Errorf("Check(b) of root B after root A's GC: %v", err)
	}
	if n := b.forwardRules(t); n != 2 {
		t.Errorf("root B's FORWARD rules after root A's GC: %d, want its 2", n)
	}
}
