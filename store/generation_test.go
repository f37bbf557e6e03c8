package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// admissionState names the policies and whether each allows privileged
// pods, and the bindings, of what AdmissionObjects returns now.
func admissionState(t *testing.T, s *Store) string {
	t.Helper()
	objs, err := s.AdmissionObjects()
	if err != nil {
		t.Fatalf("AdmissionObjects() = %v", err)
	}
	var parts []string
	for _, p := range objs.PodSecurityPolicies {
		parts = append(parts, p.Name+map[bool]string{true: "+privileged", false: ""}[p.Spec.Privileged])
	}
	for _, b := range objs.RBAC.ClusterRoleBindings {
		parts = append(parts, "crb/"+b.Name)
	}
	return strings.Join(parts, ",")
}

// TestAdmissionObjectsSeesEveryChange: a reader's cached admission objects
// are never served after a change another process (another Store on the
// same root) has written: a policy changed in place, a binding created,
// a policy deleted, each seen by the very next call.
func TestAdmissionObjectsSeesEveryChange(t *testing.T) {
	root := t.TempDir()
	reader, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, writer, pspYAML)
	steps := []struct {
		name   string
		change func()
		want   string
	}{
		{"applied", func() {}, "default"},
		{"policy changed in place", func() { apply(t, writer, strings.Replace(pspYAML, "privileged: false", "privileged: true", 1)) }, "default+privileged"},
		{"changed back, same size", func() { apply(t, writer, pspYAML) }, "default"},
		{"binding created", func() {
			apply(t, writer, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: User, name: u}]\n")
		}, "default,crb/b"},
		{"policy deleted", func() {
			if err := writer.Delete("podsecuritypolicies", "", "default"); err != nil {
				t.Fatal(err)
			}
		}, "crb/b"},
	}
	for _, st := range steps {
		st.change()
		// Twice: the first call may read the store, the second is served
		// from the cache, and both must be the change's.
		for i := range 2 {
			if got := admissionState(t, reader); got != st.want {
				t.Errorf("after %s: AdmissionObjects() call %d = %q, want %q", st.name, i+1, got, st.want)
			}
		}
	}
}

// TestAdmissionObjectsCached: between changes, every call returns the
// objects read and indexed once; an Apply that changes nothing keeps them.
func TestAdmissionObjectsCached(t *testing.T) {
	s, _ := openTest(t)
	apply(t, s, pspYAML)
	first, err := s.AdmissionObjects()
	if err != nil {
		t.Fatal(err)
	}
	if res := apply(t, s, pspYAML); res != Unchanged {
		t.Fatalf("Apply of the same policy = %s, want unchanged", res)
	}
	again, err := s.AdmissionObjects()
	if err != nil {
		t.Fatal(err)
	}
	if first.PodSecurityPolicies[0] != again.PodSecurityPolicies[0] {
		t.Errorf("AdmissionObjects() read the store again with no change in between")
	}
}

// TestAdmissionObjectsWithoutGeneration: a store with no generation (a
// change that failed half-way) is read for every call, never cached.
func TestAdmissionObjectsWithoutGeneration(t *testing.T) {
	s, root := openTest(t)
	apply(t, s, pspYAML)
	gen := filepath.Join(root, "objects", generationFile)
	if err := os.Remove(gen); err != nil {
		t.Fatal(err)
	}
	if got := admissionState(t, s); got != "default" {
		t.Fatalf("AdmissionObjects() = %q, want default", got)
	}
	// A change made behind the store's back, as a half-done change
	// would leave it: the object is new, the generation is still gone.
	file := filepath.Join(root, "objects", "podsecuritypolicies", "default.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), `"spec": {`, `"spec": {"privileged": true,`, 1)
	if changed == string(data) {
		t.Fatalf("stored policy has no spec: %s", data)
	}
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := admissionState(t, s); got != "default+privileged" {
		t.Errorf("AdmissionObjects() with no generation = %q, want the store read again: default+privileged", got)
	}
}
