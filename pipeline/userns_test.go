package pipeline

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/spec"
)

func usernsPod(hostUsers *bool) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
		Spec: corev1.PodSpec{HostUsers: hostUsers, Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
}

// TestBuildUserNS: the plan's range is the one the node allocated, the
// pod's preferred one in a preview, none with the node's users; each
// container joins the sandbox's user namespace.
func TestBuildUserNS(t *testing.T) {
	f, tr := false, true
	alloc := spec.IDRange{HostID: 7 * UserNSSize, Size: UserNSSize}
	for _, tc := range []struct {
		name      string
		hostUsers *bool
		node      Node
		want      *spec.IDRange
	}{
		{"host users (unset)", nil, Node{Root: "/r"}, nil},
		{"host users", &tr, Node{Root: "/r", UserNS: &alloc}, nil},
		{"preview", &f, Node{Root: "/r"}, ptr(UserNSRange("ns", "p", 0))},
		{"preview above a base", &f, Node{Root: "/r", UserNSBase: 100 * UserNSSize}, ptr(UserNSRange("ns", "p", 100*UserNSSize))},
		{"allocated", &f, Node{Root: "/r", UserNS: &alloc}, &alloc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Build(usernsPod(tc.hostUsers), &tc.node, Admission{}, Objects{})
			if err != nil {
				t.Fatal(err)
			}
			paths := p.Containers[0].Paths
			if tc.want == nil {
				if p.UserNS != nil || paths.UserNS != nil || paths.UserNSPath != "" {
					t.Fatalf("Build: UserNS %v, path %q; want none", p.UserNS, paths.UserNSPath)
				}
				return
			}
			if p.UserNS == nil || *p.UserNS != *tc.want || paths.UserNS == nil || *paths.UserNS != *tc.want {
				t.Fatalf("Build: UserNS %v (container %v), want %v", p.UserNS, paths.UserNS, *tc.want)
			}
			if want := "/r/pods/ns/p/ns/user"; paths.UserNSPath != want {
				t.Fatalf("Build: UserNSPath %q, want %q", paths.UserNSPath, want)
			}
		})
	}
	if base := uint32(100 * UserNSSize); UserNSRange("ns", "p", base).HostID < base {
		t.Errorf("UserNSRange below its base")
	}
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		r := UserNSRange("ns", name, 0)
		if r.HostID < DefaultUserNSBase || r.HostID%UserNSSize != 0 || uint64(r.HostID)+uint64(r.Size) > 1<<31 {
			t.Errorf("UserNSRange(ns, %s, 0) = %+v: want a multiple of %d in [%d, 2^31)", name, r, UserNSSize, DefaultUserNSBase)
		}
	}
}

func ptr[T any](v T) *T { return &v }
