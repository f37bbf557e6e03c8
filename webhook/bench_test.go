package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/store"
)

// seedStore is a store with the seed chapter's policy, usable by alice.
func seedStore(tb testing.TB) *store.Store {
	tb.Helper()
	return seedStoreIn(tb, tb.TempDir())
}

// seedStoreIn is seedStore with its state root at root.
func seedStoreIn(tb testing.TB, root string) *store.Store {
	tb.Helper()
	st, err := store.Open(root)
	if err != nil {
		tb.Fatal(err)
	}
	p := seedPolicy(tb)
	role := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: "psp-default"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: []string{"default"}, Verbs: []string{"use"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "psp-alice"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "psp-default"},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "alice"}},
	}
	for _, o := range []store.Object{p, role, binding} {
		if _, _, err := st.Apply(o); err != nil {
			tb.Fatalf("Apply(%T): %v", o, err)
		}
	}
	return st
}

// seedPolicy is the seed chapter's policy "default".
func seedPolicy(tb testing.TB) *psp.PodSecurityPolicy {
	tb.Helper()
	data, err := os.ReadFile("../testdata/policies/seed-default-psp.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	p := &psp.PodSecurityPolicy{}
	if err := yaml.Unmarshal(data, p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// bigReview is a CREATE AdmissionReview of about size bytes whose pod is
// made of many small strings (containers with long environments), the
// shape that costs a decoder the most memory per byte; with annotation, one
// large annotation instead.
func bigReview(tb testing.TB, size int, annotation bool) []byte {
	tb.Helper()
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "big", "namespace": "team"}}
	var containers []any
	if annotation {
		pod["metadata"].(map[string]any)["annotations"] = map[string]any{"big": strings.Repeat("x", size-1024)}
		containers = []any{map[string]any{"name": "c0", "image": "kubia"}}
	} else {
		// One variable is about 60 bytes of JSON.
		perContainer := 500
		for i := range size / (60 * perContainer) {
			env := make([]any, perContainer)
			for j := range env {
				env[j] = map[string]any{"name": fmt.Sprintf("V%d", j), "value": fmt.Sprintf("%032d", j)}
			}
			containers = append(containers, map[string]any{"name": fmt.Sprintf("c%d", i), "image": "kubia", "env": env})
		}
	}
	pod["spec"] = map[string]any{"containers": containers}
	review := map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{
		"uid": "uid-1", "kind": map[string]any{"group": "", "version": "v1", "kind": "Pod"},
		"resource": map[string]any{"group": "", "version": "v1", "resource": "pods"}, "namespace": "team", "operation": "CREATE",
		"userInfo": map[string]any{"username": "alice", "groups": []any{"system:authenticated"}}, "object": pod,
	}}
	b, err := json.Marshal(review)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) > MaxReviewBytes {
		tb.Fatalf("review of %d bytes, above the limit", len(b))
	}
	return b
}

// BenchmarkReview measures one ~3 MB review through the handler: B/op
// over the body's size is the memory amplification of a review.
func BenchmarkReview(b *testing.B) {
	h := NewHandler(Config{Store: seedStore(b)})
	for _, bc := range []struct {
		name       string
		path       string
		annotation bool
	}{{"mutate/env", "/mutate", false}, {"mutate/annotation", "/mutate", true}, {"validate/env", "/validate", false}} {
		b.Run(bc.name, func(b *testing.B) {
			body := bigReview(b, 3_000_000, bc.annotation)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, bc.path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("POST %s: %d %s", bc.path, rec.Code, rec.Body.Bytes()[:min(200, rec.Body.Len())])
				}
			}
		})
	}
}
