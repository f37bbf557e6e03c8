package admission

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/policy/psp"
)

func TestPatch(t *testing.T) {
	tests := []struct {
		name   string
		change func(*corev1.Pod)
		want   string
	}{
		{name: "unchanged", change: func(*corev1.Pod) {}, want: `[]`},
		{name: "first annotation, escaped", change: func(p *corev1.Pod) { p.Annotations = map[string]string{"kubernetes.io/psp": "default"} },
			want: `[{"op":"add","path":"/metadata/annotations","value":{"kubernetes.io/psp":"default"}}]`},
		{name: "one more annotation", change: func(p *corev1.Pod) { p.Labels["a~b/c"] = "d" },
			want: `[{"op":"add","path":"/metadata/labels/a~0b~1c","value":"d"}]`},
		{name: "new security context", change: func(p *corev1.Pod) {
			p.Spec.Containers[1].SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: new(true)}
		}, want: `[{"op":"add","path":"/spec/containers/1/securityContext","value":{"readOnlyRootFilesystem":true}}]`},
		{name: "replace and remove", change: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.RunAsUser = new(int64(2))
			p.Spec.Containers[0].SecurityContext.Privileged = nil
		}, want: `[{"op":"remove","path":"/spec/containers/0/securityContext/privileged"},{"op":"replace","path":"/spec/containers/0/securityContext/runAsUser","value":2}]`},
		{name: "array of another length replaced whole", change: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL", "SYS_ADMIN"}}
		}, want: `[{"op":"replace","path":"/spec/containers/0/securityContext/capabilities/drop","value":["ALL","SYS_ADMIN"]}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := &corev1.Pod{}
			from.Name, from.Labels = "web", map[string]string{"app": "web"}
			from.Spec.Containers = []corev1.Container{
				{Name: "a", Image: "i", SecurityContext: &corev1.SecurityContext{RunAsUser: new(int64(1)), Privileged: new(false),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}},
				{Name: "b", Image: "i"},
			}
			to := from.DeepCopy()
			tc.change(to)
			got, err := Patch(from, to)
			if err != nil || string(got) != tc.want {
				t.Errorf("Patch(%s) = %s, %v; want %s", tc.name, got, err, tc.want)
			}
		})
	}
}

// TestPatchMatchesJSONDiff holds the typed walk of Patch to what the
// whole-document JSON diff gives, for the test pods with the defaults of
// the seed and restricted policies and with changes of every kind.
func TestPatchMatchesJSONDiff(t *testing.T) {
	files, err := filepath.Glob("../../testdata/pods/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test pods: %v", err)
	}
	policies := []*psp.PodSecurityPolicy{policy(t, seedDefaultPolicy), policy(t, restrictedPolicy)}
	changes := map[string]func(*corev1.Pod){
		"labels gone":        func(p *corev1.Pod) { p.Labels = nil },
		"annotation changed": func(p *corev1.Pod) { p.Annotations = map[string]string{"a/b": "c"} },
		"container added":    func(p *corev1.Pod) { p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "x"}) },
		"limits": func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"cpu": resource.MustParse("2")}
		},
		"host network":   func(p *corev1.Pod) { p.Spec.HostNetwork = !p.Spec.HostNetwork },
		"creation time":  func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(time.Unix(1e9, 0)) },
		"empty env":      func(p *corev1.Pod) { p.Spec.Containers[0].Env = []corev1.EnvVar{} },
		"volume removed": func(p *corev1.Pod) { p.Spec.Volumes = nil },
	}
	compared := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range strings.Split(string(data), "\n---") {
			from := &corev1.Pod{}
			if err := yaml.Unmarshal([]byte(doc), from); err != nil || from.Kind != "Pod" {
				continue
			}
			var tos []*corev1.Pod
			for _, p := range policies {
				if to, err := psp.Default(from, p); err == nil {
					tos = append(tos, to)
				}
			}
			for _, change := range changes {
				to := from.DeepCopy()
				change(to)
				tos = append(tos, to)
			}
			for j, to := range tos {
				got, err := Patch(from, to)
				if err != nil {
					t.Fatalf("Patch(%s #%d, change %d) = %v", file, i, j, err)
				}
				compared++
				if want := wholeDocumentPatch(t, from, to); string(got) != want {
					t.Errorf("Patch(%s #%d, change %d) =\n%s\nwant\n%s", file, i, j, got, want)
				}
			}
		}
	}
	if compared < 200 {
		t.Errorf("compared %d patches, want the test pods' 200 or more", compared)
	}
}

// wholeDocumentPatch is Patch as it was: both pods as generic JSON values,
// diffed whole.
func wholeDocumentPatch(t *testing.T, from, to *corev1.Pod) string {
	t.Helper()
	a, err := jsonValue(reflect.ValueOf(from).Elem())
	if err != nil {
		t.Fatal(err)
	}
	b, err := jsonValue(reflect.ValueOf(to).Elem())
	if err != nil {
		t.Fatal(err)
	}
	ops := diff(nil, "", a, b)
	if ops == nil {
		ops = []PatchOperation{}
	}
	out, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestEncodePatch: encodePatch writes what json.Marshal writes of the
// operations, byte for byte: HTML and control characters escaped, null
// values kept, remove without a value, nested values with their keys
// sorted.
func TestEncodePatch(t *testing.T) {
	values := []any{nil, true, 1.5, 1e21, -0.0, "<a&b>\u2028\x01é", []any{"x", 2.0, nil},
		map[string]any{"z": 1.0, "a": map[string]any{"<": ">"}, "m": []any{}}, map[string]any{}}
	var ops []PatchOperation
	for i, v := range values {
		ops = append(ops, PatchOperation{Op: "add", Path: fmt.Sprintf("/metadata/annotations/k~1<%d>", i), Value: v},
			PatchOperation{Op: "replace", Path: "/spec/x&y", Value: v}, PatchOperation{Op: "remove", Path: "/a\"\u00e9"})
	}
	for _, tc := range [][]PatchOperation{nil, {}, ops[:1], ops} {
		want, err := json.Marshal(tc)
		if tc == nil {
			want = []byte("[]")
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, err := encodePatch(tc); err != nil || string(got) != string(want) {
			t.Errorf("encodePatch(%d operations) = %s, %v; want %s", len(tc), got, err, want)
		}
	}
}

// TestPlainJSON: the values plainJSON makes are those of the round trip
// through JSON text, and the others are left to it.
func TestPlainJSON(t *testing.T) {
	big := int64(1)<<62 + 1
	var nilMap map[string]string
	var nilSlice []corev1.Capability
	values := []any{"a<&>", "bad \xff utf-8", true, int64(-3), big, uint64(1<<64 - 1), new(int64(7)), (*int64)(nil),
		corev1.ProcMountType("Default"), []corev1.Capability{"ALL", "NET_ADMIN"}, nilSlice, []string{},
		map[string]string{"b": "1", "a/b": "<"}, map[string]string{"k": "\xfe"}, nilMap,
		resource.MustParse("100m"), metav1.NewTime(time.Unix(1e9, 0)), 1.5, []int{1}, []byte("ab"),
		corev1.SecurityContext{RunAsUser: new(int64(13000)), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"NET_RAW"}},
			SeccompProfile: &corev1.SeccompProfile{Type: "RuntimeDefault"}, ReadOnlyRootFilesystem: new(false)},
		&corev1.PodSecurityContext{SupplementalGroups: []int64{1, 2}, Sysctls: []corev1.Sysctl{{Name: "a", Value: "\xff"}}},
		corev1.Container{Name: "c", Env: []corev1.EnvVar{{Name: "A", Value: "<b>"}}, Ports: []corev1.ContainerPort{{ContainerPort: 80}}},
		corev1.Container{Name: "c", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": resource.MustParse("1")}}},
		map[string][]string{"a": {"b"}, "c": nil}, map[string]any{"x": 1}, []*int64{nil, new(int64(1))}}
	plain := 0
	for _, x := range values {
		v := reflect.ValueOf(&x).Elem().Elem()
		data, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := plainJSON(v)
		if ok && !reflect.DeepEqual(got, want) {
			t.Errorf("plainJSON(%#v) = %#v, want %#v", x, got, want)
		}
		if ok {
			plain++
		}
		if got, err := jsonValue(v); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("jsonValue(%#v) = %#v, %v; want %#v", x, got, err, want)
		}
	}
	// Those without invalid UTF-8, quantities, times, floats, bytes or
	// interfaces: the fast path must be taken, not only be right.
	if want := 18; plain != want {
		t.Errorf("plainJSON made %d of the values, want %d", plain, want)
	}
}
