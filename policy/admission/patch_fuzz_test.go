package admission

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FuzzPatch: whatever a pod's user-chosen strings and numbers hold
// (names, label and annotation keys with "~" and "/", images, env values
// with quotes, U+2028, HTML characters, control characters), the typed
// walk's patch is byte for byte the whole-document diff's, is a JSON
// Patch of add, replace and remove only, and turns the first pod's JSON
// into the second's. A string that broke out of its JSON string or its
// pointer token would add an operation or change another path. The
// strings are valid UTF-8, as every string decoded from a review is.
func FuzzPatch(f *testing.F) {
	f.Add("web", "app", "v", "kubernetes.io/psp", "default", "busybox", "A", "x", int64(1000), int64(0))
	f.Add("a/b~c", "~1", "~0/", "a~1b/~0", "\"},{\"op\":\"remove\",\"path\":\"/spec\"}", "img\u2028\u2029", "<&>", "\x00\x1f\x7f", int64(-1), int64(1)<<53+1)
	f.Add("", "", "", "", "", "", "", "", int64(9007199254740993), int64(-9223372036854775808))
	f.Add("x\ny", "k\"", "\\", "/", "~", "\ufffd", "é", "\u00a0", int64(1), int64(9223372036854775807))
	f.Fuzz(func(t *testing.T, name, labelKey, labelValue, annKey, annValue, image, envName, envValue string, uid, n int64) {
		v := strings.ToValidUTF8
		from := &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: v(name, "?"), Labels: map[string]string{v(labelKey, "?"): v(labelValue, "?"), "z": "z"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: v(image, "?"),
				Env: []corev1.EnvVar{{Name: v(envName, "?"), Value: v(envValue, "?")}}}}},
		}
		to := from.DeepCopy()
		to.Annotations = map[string]string{v(annKey, "?"): v(annValue, "?")}
		to.Labels[v(labelValue, "?")] = v(labelKey, "?")
		delete(to.Labels, "z")
		to.Spec.ActiveDeadlineSeconds = &n
		to.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: &uid}
		to.Spec.Containers[0].Env = append(to.Spec.Containers[0].Env, corev1.EnvVar{Name: v(envValue, "?"), Value: v(name, "?")})
		to.Spec.Containers[0].Image = v(image, "?") + v(annValue, "?")
		for _, pair := range [][2]*corev1.Pod{{from, to}, {to, from}} {
			got, err := Patch(pair[0], pair[1])
			if err != nil {
				t.Fatalf("Patch: %v", err)
			}
			if want := wholeDocumentPatch(t, pair[0], pair[1]); string(got) != want {
				t.Fatalf("Patch = %s, want the whole-document diff %s", got, want)
			}
			checkPatchApplies(t, got, pair[0], pair[1])
		}
	})
}

// checkPatchApplies applies patch to from's JSON value and wants to's.
func checkPatchApplies(t *testing.T, patch []byte, from, to *corev1.Pod) {
	t.Helper()
	var ops []map[string]json.RawMessage
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatalf("patch %s does not parse: %v", patch, err)
	}
	doc, err := jsonValue(reflect.ValueOf(from).Elem())
	if err != nil {
		t.Fatal(err)
	}
	want, err := jsonValue(reflect.ValueOf(to).Elem())
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range ops {
		var op, path string
		var value any
		if json.Unmarshal(raw["op"], &op) != nil || json.Unmarshal(raw["path"], &path) != nil {
			t.Fatalf("operation %s of %s has no op or path", raw, patch)
		}
		if want := map[string]int{"add": 3, "replace": 3, "remove": 2}[op]; want == 0 || len(raw) != want {
			t.Fatalf("operation %s of %s: want add, replace (op, path, value) or remove (op, path)", raw, patch)
		}
		if op != "remove" {
			if err := json.Unmarshal(raw["value"], &value); err != nil {
				t.Fatal(err)
			}
		}
		if doc, err = applyOp(doc, op, path, value); err != nil {
			t.Fatalf("applying %s of %s: %v", raw, patch, err)
		}
	}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("patch %s turned the pod into %v, want %v", patch, doc, want)
	}
}

// applyOp is RFC 6902's add, replace and remove on a generic JSON value,
// as far as Patch uses them (array elements are only replaced).
func applyOp(doc any, op, path string, value any) (any, error) {
	if path == "" {
		return value, nil
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q does not start with /", path)
	}
	tokens := strings.Split(path[1:], "/")
	for i, tok := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
	}
	parent := doc
	for _, tok := range tokens[:len(tokens)-1] {
		switch p := parent.(type) {
		case map[string]any:
			next, ok := p[tok]
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			parent = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(p) {
				return nil, fmt.Errorf("no element %q", tok)
			}
			parent = p[i]
		default:
			return nil, fmt.Errorf("%q of a scalar", tok)
		}
	}
	last := tokens[len(tokens)-1]
	switch p := parent.(type) {
	case map[string]any:
		_, ok := p[last]
		switch {
		case op == "add":
			p[last] = value
		case !ok:
			return nil, fmt.Errorf("%s of a missing member %q", op, last)
		case op == "replace":
			p[last] = value
		default:
			delete(p, last)
		}
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(p) || op != "replace" {
			return nil, fmt.Errorf("%s of element %q", op, last)
		}
		p[i] = value
	default:
		return nil, fmt.Errorf("%s in a scalar", op)
	}
	return doc, nil
}

// FuzzEncodePatch: encodePatch is json.Marshal of the operations for any
// path and string value, invalid UTF-8 included, and its output parses
// back to the same operations.
func FuzzEncodePatch(f *testing.F) {
	f.Add("/metadata/annotations/a~1b", "v", int64(1), true)
	f.Add("/a\"},{\"op\":\"remove", "\xff\xfe<>&\u2028\u2029\x00", int64(-1)<<63, false)
	f.Add("", "\\u0000", int64(1)<<53+1, true)
	f.Fuzz(func(t *testing.T, path, s string, n int64, remove bool) {
		op := "add"
		if remove {
			op = "remove"
		}
		ops := []PatchOperation{{Op: op, Path: path, Value: s}, {Op: "replace", Path: s, Value: map[string]any{s: []any{s, float64(n)}}},
			{Op: "add", Path: path + "/" + s, Value: nil}}
		want, err := json.Marshal(ops)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodePatch(ops)
		if err != nil || string(got) != string(want) {
			t.Fatalf("encodePatch(%q, %q) = %s, %v; want %s", path, s, got, err, want)
		}
		var back []map[string]any
		if err := json.Unmarshal(got, &back); err != nil || len(back) != len(ops) {
			t.Fatalf("encodePatch(%q, %q) = %s: %d operations back (%v), want %d", path, s, got, len(back), err, len(ops))
		}
		var ps string
		if err := json.Unmarshal(must(json.Marshal(path)), &ps); err != nil {
			t.Fatal(err)
		}
		if back[0]["path"] != ps || back[0]["op"] != op {
			t.Fatalf("operation 0 came back as %v, want op %q path %q", back[0], op, ps)
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
