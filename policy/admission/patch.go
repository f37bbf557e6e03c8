package admission

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PatchOperation is one operation of a JSON Patch (RFC 6902).
type PatchOperation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// MarshalJSON writes "value" for add and replace, even when it is null,
// and never for remove.
func (o PatchOperation) MarshalJSON() ([]byte, error) {
	if o.Op == "remove" {
		return json.Marshal(struct {
			Op   string `json:"op"`
			Path string `json:"path"`
		}{o.Op, o.Path})
	}
	return json.Marshal(struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}{o.Op, o.Path, o.Value})
}

// Patch returns the JSON Patch that turns from into to, as the patch of an
// admission.k8s.io/v1 response (patchType JSONPatch). Both pods are
// compared in their JSON form, so the patch applies to the object the API
// server sent for from. Objects are patched key by key in key order;
// arrays of equal length element by element, others replaced whole, which
// keeps every path valid whatever the order the operations run in.
func Patch(from, to *corev1.Pod) ([]byte, error) {
	a, err := jsonValue(from)
	if err != nil {
		return nil, err
	}
	b, err := jsonValue(to)
	if err != nil {
		return nil, err
	}
	ops := diff(nil, "", a, b)
	if ops == nil {
		ops = []PatchOperation{}
	}
	return json.Marshal(ops)
}

func jsonValue(pod *corev1.Pod) (any, error) {
	data, err := json.Marshal(pod)
	if err != nil {
		return nil, fmt.Errorf("encoding pod %q: %w", pod.Name, err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("decoding pod %q: %w", pod.Name, err)
	}
	return v, nil
}

func diff(ops []PatchOperation, path string, a, b any) []PatchOperation {
	switch a := a.(type) {
	case map[string]any:
		if b, ok := b.(map[string]any); ok {
			keys := make([]string, 0, len(a)+len(b))
			for k := range a {
				keys = append(keys, k)
			}
			for k := range b {
				if _, ok := a[k]; !ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				p := path + "/" + escapePointer(k)
				av, inA := a[k]
				bv, inB := b[k]
				switch {
				case !inB:
					ops = append(ops, PatchOperation{Op: "remove", Path: p})
				case !inA:
					ops = append(ops, PatchOperation{Op: "add", Path: p, Value: bv})
				default:
					ops = diff(ops, p, av, bv)
				}
			}
			return ops
		}
	case []any:
		if b, ok := b.([]any); ok && len(a) == len(b) {
			for i := range a {
				ops = diff(ops, path+"/"+strconv.Itoa(i), a[i], b[i])
			}
			return ops
		}
	}
	if !reflect.DeepEqual(a, b) {
		ops = append(ops, PatchOperation{Op: "replace", Path: path, Value: b})
	}
	return ops
}

// escapePointer escapes a key for a JSON Pointer (RFC 6901):
// "kubernetes.io/psp" is "kubernetes.io~1psp".
func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}
