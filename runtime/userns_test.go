package runtime

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/pipeline"
)

// TestUserNSAllocation: a pod gets its preferred range when free and the
// next free one when another pod holds it; releases and gc free only what
// they should; a base above the node's IDs moves every range above it.
func TestUserNSAllocation(t *testing.T) {
	root := testRoot(t)
	const base = 40 * pipeline.UserNSSize
	rt, err := New(Config{Root: root, Images: testImages{}, UserNSBase: base})
	if err != nil {
		t.Fatal(err)
	}
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	}
	a := pod("a")
	pref := pipeline.UserNSRange("default", "a", base)
	if pref.HostID < base {
		t.Fatalf("UserNSRange(a, base %d) = %d, below the base", base, pref.HostID)
	}
	// Another pod, whose podsec still runs, holds a's preferred range.
	self, _ := SelfOwner()
	if err := os.MkdirAll(rt.layout.userNSDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteJSON(rt.layout.userNSRecord(pref.HostID), userNSRecord{Namespace: "default", Name: "other", Owner: self, HostID: pref.HostID, Size: pref.Size}); err != nil {
		t.Fatal(err)
	}
	got, err := rt.allocUserNS(a)
	if err != nil {
		t.Fatal(err)
	}
	if got.HostID == pref.HostID || got.HostID%pipeline.UserNSSize != 0 || got.HostID < base || got.Size != pipeline.UserNSSize {
		t.Fatalf("allocUserNS(a) = %+v with %d held: want another multiple of %d above %d", *got, pref.HostID, pipeline.UserNSSize, base)
	}
	b := pod("b")
	gotB, err := rt.allocUserNS(b)
	if err != nil {
		t.Fatal(err)
	}
	if gotB.HostID == got.HostID || gotB.HostID == pref.HostID {
		t.Fatalf("allocUserNS(b) = %d: a range already held", gotB.HostID)
	}
	// Releasing a's range leaves the others; gc keeps live owners' ranges.
	if err := rt.layout.releaseUserNS(a, got); err != nil {
		t.Fatal(err)
	}
	if err := rt.layout.releaseUserNS(a, gotB); err != nil { // b's: not a's to free
		t.Fatal(err)
	}
	if err := gcUserNS(rt.layout, func(string) {}); err != nil {
		t.Fatal(err)
	}
	recs, _ := rt.layout.userNSRecords()
	if len(recs) != 2 {
		t.Fatalf("records after a's release and gc: %v, want other's and b's", recs)
	}
	// A record whose podsec is gone, and whose pod left nothing, is freed.
	dead := Owner{PID: self.PID, StartTime: self.StartTime + 1}
	if err := atomicfile.WriteJSON(rt.layout.userNSRecord(gotB.HostID), userNSRecord{Namespace: "default", Name: "b", Owner: dead, HostID: gotB.HostID, Size: gotB.Size}); err != nil {
		t.Fatal(err)
	}
	// ... unless its pod directory is still there, not yet collected.
	if err := os.MkdirAll(rt.layout.PodDir("default", "b"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := gcUserNS(rt.layout, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if recs, _ := rt.layout.userNSRecords(); len(recs) != 2 {
		t.Fatalf("gc freed the range of a pod not yet collected: %v", recs)
	}
	os.RemoveAll(rt.layout.PodDir("default", "b"))
	var freed []string
	if err := gcUserNS(rt.layout, func(s string) { freed = append(freed, s) }); err != nil {
		t.Fatal(err)
	}
	if recs, _ := rt.layout.userNSRecords(); len(recs) != 1 || len(freed) != 1 {
		t.Fatalf("gc after b's owner died: records %v, freed %v; want only other's left", recs, freed)
	}
}

// TestUserNSBase refuses bases that are not multiples of 65536 above the
// node's own IDs.
func TestUserNSBase(t *testing.T) {
	for _, tc := range []struct {
		base uint32
		ok   bool
	}{{0, true}, {65536, true}, {10 * 65536, true}, {1000, false}, {65537, false}, {1 << 31, false}} {
		if err := pipeline.CheckUserNSBase(tc.base); (err == nil) != tc.ok {
			t.Errorf("CheckUserNSBase(%d) = %v, want ok %v", tc.base, err, tc.ok)
		}
	}
	if _, err := NodeFacts(NodeConfig{Root: testRoot(t), UserNSBase: 1000}); err == nil {
		t.Errorf("NodeFacts with UserNSBase 1000: no error")
	}
}
