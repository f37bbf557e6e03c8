package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/podsec/podsec/store"
)

// TestInflightLimit: with every slot taken, a review is answered 429 with
// Retry-After at once; once a slot is free, it is decided.
func TestInflightLimit(t *testing.T) {
	h := NewHandler(Config{Store: seedStore(t), MaxInflight: 2})
	body := bigReview(t, 10_000, false)
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	h.slots <- struct{}{}
	h.slots <- struct{}{}
	if rec := post(); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("POST /validate with 2 of 2 in flight: %d, Retry-After %q; want 429 with Retry-After 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	<-h.slots
	if rec := post(); rec.Code != http.StatusOK {
		t.Errorf("POST /validate with 1 of 2 in flight: %d %s, want 200", rec.Code, rec.Body)
	}
	if len(h.slots) != 1 {
		t.Errorf("%d slots taken after the review, want its slot given back", len(h.slots))
	}
}

// TestPolicyChangeSeenByNextReview: the handler keeps what it made of
// the store between reviews, and a change written in between by another
// process (another store on the same root, as podsec apply is) decides
// the very next review: a hostNetwork pod refused, then allowed once the
// policy allows host networking, then refused once alice's binding is
// deleted.
func TestPolicyChangeSeenByNextReview(t *testing.T) {
	root := t.TempDir()
	h := NewHandler(Config{Store: seedStoreIn(t, root)})
	writer, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u1",
 "kind": {"group": "", "version": "v1", "kind": "Pod"}, "resource": {"group": "", "version": "v1", "resource": "pods"},
 "namespace": "team", "operation": "CREATE", "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
 "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "team"},
  "spec": {"hostNetwork": true, "containers": [{"name": "main", "image": "kubia"}]}}}}`)
	review := func() (bool, string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/mutate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil || out.Response == nil {
			t.Fatalf("POST /mutate: %d %s (%v)", rec.Code, rec.Body, err)
		}
		msg := ""
		if out.Response.Result != nil {
			msg = out.Response.Result.Message
		}
		return out.Response.Allowed, msg
	}
	policy := func(hostNetwork bool) {
		t.Helper()
		p := seedPolicy(t)
		p.Spec.HostNetwork = hostNetwork
		if _, _, err := writer.Apply(p); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		change func()
		want   bool
	}{
		{"seed policy", func() {}, false},
		{"policy allows hostNetwork", func() { policy(true) }, true},
		{"policy forbids hostNetwork again", func() { policy(false) }, false},
		{"policy allows it once more", func() { policy(true) }, true},
		{"binding deleted", func() {
			if err := writer.Delete("clusterrolebindings", "", "psp-alice"); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, st := range steps {
		st.change()
		for i := range 2 {
			if got, msg := review(); got != st.want {
				t.Errorf("after %s: review %d allowed = %v (%s), want %v", st.name, i+1, got, msg, st.want)
			}
		}
	}
}

// TestJSONContent: the exact type takes the map lookup; others, with
// parameters or in other cases, are parsed as before.
func TestJSONContent(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   bool
	}{
		{[]string{"application/json"}, true},
		{[]string{"application/json; charset=utf-8"}, true},
		{[]string{"Application/JSON"}, true},
		{[]string{"text/plain"}, false},
		{[]string{"application/json;"}, true},
		{[]string{""}, false},
		{nil, false},
	} {
		h := http.Header{}
		if tc.values != nil {
			h["Content-Type"] = tc.values
		}
		if got := jsonContent(h); got != tc.want {
			t.Errorf("jsonContent(%q) = %v, want %v", tc.values, got, tc.want)
		}
	}
}

// TestLogLine: each review logs one line, as fmt formatted it before:
// phase, operation, pod (generateName with a star), subresource,
// requester quoted, and the decision with the policy quoted.
func TestLogLine(t *testing.T) {
	var log bytes.Buffer
	h := NewHandler(Config{Store: seedStore(t), Log: &log})
	review := func(path, user, meta, spec string) {
		t.Helper()
		body := `{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u1",
 "kind": {"group": "", "version": "v1", "kind": "Pod"}, "resource": {"group": "", "version": "v1", "resource": "pods"},
 "namespace": "team", "operation": "CREATE", "userInfo": {"username": ` + user + `, "groups": ["system:authenticated"]},
 "object": {"apiVersion": "v1", "kind": "Pod", "metadata": ` + meta + `, "spec": ` + spec + `}}}`
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	plain := `{"containers": [{"name": "main", "image": "kubia"}]}`
	review("/mutate", `"alice"`, `{"name": "web"}`, plain)
	review("/validate", `"al\"ice"`, `{"generateName": "web-"}`, plain)
	review("/validate", `"alice"`, `{"name": "web"}`, `{"hostNetwork": true, "containers": [{"name": "main", "image": "kubia"}]}`)
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	want := []string{
		fmt.Sprintf("podsec webhook: mutate CREATE pod team/web by %q: allowed by podsecuritypolicy %q", "alice", "default"),
		fmt.Sprintf("podsec webhook: validate CREATE pod team/web-* by %q: refused: ", `al"ice`),
		fmt.Sprintf("podsec webhook: validate CREATE pod team/web by %q: refused: ", "alice"),
	}
	if len(lines) != len(want) {
		t.Fatalf("logged %q, want %d lines", lines, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) || strings.HasSuffix(w, ": ") && len(lines[i]) == len(w) {
			t.Errorf("line %d = %q, want %q (and a reason after a refusal)", i, lines[i], w)
		}
	}
}
