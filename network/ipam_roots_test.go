package network

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCloseLeavesIPAMInUse: root B shares root A's host-local data (the
// conflist both read names A's directory). B's Setup is allocating, and
// waits for the IPAM lock, which the test holds as host-local or another
// allocation would, when A, with no pod left, closes. Before, A saw no
// address in the directory and removed it, lock file and all: B then
// took the lock of a deleted file and its address file could not be made
// ("reserving 10.x.y.2: no such file or directory"), or was removed
// under it and the address handed out twice. A now leaves a directory
// whose lock is held, and B's pods get their own addresses, held in the
// data.
func TestCloseLeavesIPAMInUse(t *testing.T) {
	a := newEnv(t, BackendInProcess)
	b := a.otherRoot(t)
	dir := a.m.ipam().dir
	if got := b.m.ipam().dir; got != dir {
		t.Fatalf("root B's IPAM data is %s, want root A's %s (the shared conflist's)", got, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(dir, ipamLockName)
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	nsB1, nsB2 := a.newNetNS(), a.newNetNS()
	setup := async(func() error {
		_, err := b.m.Setup(ctx, ref("b1"), nsB1, nil)
		return err
	})
	waitLockWaiter(t, lockPath)
	if err := a.m.Close(ctx); err != nil {
		t.Errorf("Close of root A, which has no pod: %v", err)
	}
	f.Close() // lets B's allocation go on
	if err := setup(); err != nil {
		t.Fatalf("Setup(b1) in root B while root A closed: %v", err)
	}
	if _, err := b.m.Setup(ctx, ref("b2"), nsB2, nil); err != nil {
		t.Fatalf("Setup(b2) in root B: %v", err)
	}
	b.checkDistinct(t, "b1", "b2")
}

// TestIPAMTwoRootsLoop: root A sets a pod up, tears it down (its last)
// and closes, over and over, while root B sets pods up and tears them
// down. Every Setup succeeds, and B's pods, two at a time, have distinct
// addresses that the IPAM data holds for them. The loop is bounded by
// count.
func TestIPAMTwoRootsLoop(t *testing.T) {
	const rounds = 15
	a := newEnv(t, BackendInProcess)
	b := a.otherRoot(t)
	ctx := context.Background()
	nsA := make([]string, rounds)
	nsB := make([]string, 2*rounds)
	for i := range nsA {
		nsA[i] = a.newNetNS()
	}
	for i := range nsB {
		nsB[i] = a.newNetNS()
	}
	rootA := async(func() error {
		for i := range rounds {
			pod := ref(fmt.Sprintf("a%d", i))
			if _, err := a.m.Setup(ctx, pod, nsA[i], nil); err != nil {
				return fmt.Errorf("Setup(%s) in root A: %w", pod, err)
			}
			if err := a.m.Teardown(ctx, pod); err != nil {
				return fmt.Errorf("Teardown(%s), root A's last pod: %w", pod, err)
			}
			if err := a.m.Close(ctx); err != nil {
				return fmt.Errorf("Close of root A: %w", err)
			}
		}
		return nil
	})
	for i := range rounds {
		p, q := fmt.Sprintf("b%d", 2*i), fmt.Sprintf("b%d", 2*i+1)
		if _, err := b.m.Setup(ctx, ref(p), nsB[2*i], nil); err != nil {
			t.Errorf("round %d: Setup(%s) in root B: %v", i, p, err)
			break
		}
		if _, err := b.m.Setup(ctx, ref(q), nsB[2*i+1], nil); err != nil {
			t.Errorf("round %d: Setup(%s) in root B: %v", i, q, err)
			break
		}
		if !b.checkDistinct(t, p, q) {
			break
		}
		for _, n := range []string{p, q} {
			if err := b.m.Teardown(ctx, ref(n)); err != nil {
				t.Errorf("round %d: Teardown(%s) in root B: %v", i, n, err)
			}
		}
	}
	if err := rootA(); err != nil {
		t.Error(err)
	}
}

// checkDistinct tells, failing the test otherwise, whether the pods
// have distinct addresses, each held for its attachment in the IPAM data
// (Check).
func (e *env) checkDistinct(t *testing.T, pods ...string) bool {
	t.Helper()
	ok := true
	seen := map[string]string{}
	for _, p := range pods {
		att, err := e.m.Get(ref(p))
		if err != nil {
			t.Errorf("Get(%s): %v", p, err)
			ok = false
			continue
		}
		if q, dup := seen[att.IP.String()]; dup {
			t.Errorf("pods %s and %s both have address %s", q, p, att.IP)
			ok = false
		}
		seen[att.IP.String()] = p
		if err := e.m.Check(context.Background(), ref(p)); err != nil {
			t.Errorf("Check(%s): %v", p, err)
			ok = false
		}
	}
	return ok
}
