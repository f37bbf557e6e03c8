package admission

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/internal/jsonw"
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
// admission.k8s.io/v1 response (patchType JSONPatch). The pods are
// compared as their JSON forms are: objects key by key in key order,
// arrays of equal length element by element, others replaced whole, which
// keeps every path valid whatever the order the operations run in.
//
// The walk goes over the Go values and turns into JSON only the small
// parts that differ: converting two whole pods to generic JSON values cost
// some 20 times the pod's size, which a hostile 3 MB pod turned into
// gigabytes across a webhook's concurrent reviews.
func Patch(from, to *corev1.Pod) ([]byte, error) {
	if from == to {
		return []byte("[]"), nil
	}
	var w walk
	if err := w.diffUnequal(reflect.ValueOf(from).Elem(), reflect.ValueOf(to).Elem()); err != nil {
		return nil, fmt.Errorf("patching pod %q: %w", from.Name, err)
	}
	return encodePatch(w.ops)
}

// encodePatch is json.Marshal(ops), with ops nil written as [], byte for
// byte, without the reflection over each operation, the struct
// MarshalJSON builds for it and the pass encoding/json makes again over
// what a Marshaler returns: some 20% of a mutating review's patch.
func encodePatch(ops []PatchOperation) ([]byte, error) {
	var buf bytes.Buffer
	w := jsonw.New(&buf)
	w.Raw("[")
	for i, o := range ops {
		if i > 0 {
			w.Raw(",")
		}
		w.Raw(`{"op":`)
		if err := w.Value(o.Op); err != nil {
			return nil, err
		}
		w.Raw(`,"path":`)
		if err := w.Value(o.Path); err != nil {
			return nil, err
		}
		if o.Op != "remove" {
			w.Raw(`,"value":`)
			if err := w.Value(o.Value); err != nil {
				return nil, fmt.Errorf("encoding the value at %s: %w", o.Path, err)
			}
		}
		w.Raw("}")
	}
	w.Raw("]")
	return buf.Bytes(), nil
}

// walk is a walk over two pods: the JSON Pointer of the values it is at,
// made into a string only for an operation (the walk goes over most of
// the pod, and most of it has none), and the operations so far.
type walk struct {
	path []byte
	ops  []PatchOperation
}

// push descends into the member or element token; pop(n), with what push
// returned, goes back up.
func (w *walk) push(token string) int {
	n := len(w.path)
	w.path = append(w.path, '/')
	w.path = append(w.path, escapePointer(token)...)
	return n
}

func (w *walk) pop(n int) { w.path = w.path[:n] }

// diffUnequal appends the operations that turn a into b, two values of
// one type present in both documents at the walk's path, known to differ
// or walkable. The walk compares each value that is not walkable before
// it descends: most of a pod is equal, and no second comparison is then
// made.
func (w *walk) diffUnequal(a, b reflect.Value) error {
	t := a.Type()
	if !customJSON(t) {
		switch t.Kind() {
		case reflect.Pointer:
			if !a.IsNil() && !b.IsNil() && t.Elem().Kind() == reflect.Struct && !customJSON(t.Elem()) {
				return w.diffUnequal(a.Elem(), b.Elem())
			}
		case reflect.Struct:
			if fields, ok := fieldsOf(t); ok {
				return w.diffStruct(fields, a, b)
			}
		case reflect.Slice:
			if !a.IsNil() && !b.IsNil() && a.Len() == b.Len() && t.Elem().Kind() != reflect.Uint8 {
				for i := range a.Len() {
					if !walkable(a.Index(i), b.Index(i)) && equalValues(a.Index(i), b.Index(i)) {
						continue
					}
					n := w.push(strconv.Itoa(i))
					if err := w.diffUnequal(a.Index(i), b.Index(i)); err != nil {
						return err
					}
					w.pop(n)
				}
				return nil
			}
		case reflect.Map:
			if !a.IsNil() && !b.IsNil() && t.Key().Kind() == reflect.String && !customJSON(t.Key()) {
				return w.diffMap(a, b)
			}
		}
	}
	// A leaf, or values whose shapes differ: compare their JSON.
	av, err := jsonValue(a)
	if err != nil {
		return err
	}
	bv, err := jsonValue(b)
	if err != nil {
		return err
	}
	w.ops = diff(w.ops, string(w.path), av, bv)
	return nil
}

func (w *walk) diffStruct(fields []jsonField, a, b reflect.Value) error {
	for _, f := range fields {
		fa, fb := a.FieldByIndex(f.index), b.FieldByIndex(f.index)
		inA, inB := !f.omitted(fa), !f.omitted(fb)
		if inA && inB && !walkable(fa, fb) && equalValues(fa, fb) {
			continue
		}
		if !inA && !inB {
			continue
		}
		n := w.push(f.name)
		if err := w.change(inA, inB, fa, fb); err != nil {
			return err
		}
		w.pop(n)
	}
	return nil
}

// change appends the operations at the walk's path of a value present
// in the first document (inA), the second (inB) or both.
func (w *walk) change(inA, inB bool, a, b reflect.Value) error {
	switch {
	case !inB:
		w.ops = append(w.ops, PatchOperation{Op: "remove", Path: string(w.path)})
	case !inA:
		v, err := jsonValue(b)
		if err != nil {
			return err
		}
		w.ops = append(w.ops, PatchOperation{Op: "add", Path: string(w.path), Value: v})
	default:
		return w.diffUnequal(a, b)
	}
	return nil
}

func (w *walk) diffMap(a, b reflect.Value) error {
	keys := make([]reflect.Value, 0, a.Len()+b.Len())
	keys = append(keys, a.MapKeys()...)
	for _, k := range b.MapKeys() {
		if !a.MapIndex(k).IsValid() {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y reflect.Value) int { return strings.Compare(x.String(), y.String()) })
	for _, k := range keys {
		av, bv := a.MapIndex(k), b.MapIndex(k)
		if av.IsValid() && bv.IsValid() && equalValues(av, bv) {
			continue
		}
		n := w.push(k.String())
		if err := w.change(av.IsValid(), bv.IsValid(), av, bv); err != nil {
			return err
		}
		w.pop(n)
	}
	return nil
}

// walkable reports values diffUnequal walks part by part (structs, and
// pointers to them, field by field; slices of one length element by
// element), whose walk finds nothing when they are equal. Those are not
// compared first: a comparison at every level of the walk went over the
// parts that differ once per level (the pod, its spec, a container, its
// securityContext, ...), most of a mutating review's patch.
func walkable(a, b reflect.Value) bool {
	t := a.Type()
	if customJSON(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Struct:
		_, ok := fieldsOf(t)
		return ok
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() || t.Elem().Kind() != reflect.Struct || customJSON(t.Elem()) {
			return false
		}
		_, ok := fieldsOf(t.Elem())
		return ok
	case reflect.Slice:
		return !a.IsNil() && !b.IsNil() && a.Len() == b.Len() && t.Elem().Kind() != reflect.Uint8
	}
	return false
}

// equalValues is reflect.DeepEqual without copying struct values: values
// reached through a pointer are compared through their addresses.
func equalValues(a, b reflect.Value) bool {
	if a.CanAddr() && b.CanAddr() {
		return reflect.DeepEqual(a.Addr().Interface(), b.Addr().Interface())
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// jsonValue is the generic JSON value (maps, slices, strings, float64s,
// bools, nil) of v as encoding/json writes it inside its parent.
func jsonValue(v reflect.Value) (any, error) {
	if g, ok := plainJSON(v); ok {
		return g, nil
	}
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	data, err := json.Marshal(x)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", v.Type(), err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", v.Type(), err)
	}
	return out, nil
}

// plainJSON is jsonValue of the values encoding/json writes plainly and
// json.Unmarshal gives back as they were, made without the round trip
// through JSON text: strings of valid UTF-8, booleans, integers (as the
// float64 json.Unmarshal makes of them, rounded alike), and structs,
// slices, maps with string keys and pointers made of those. ok is false
// for anything else (a custom JSON form, a float, bytes, an interface),
// which takes the round trip: a mutating review adds whole structs
// (securityContext), which the round trip made a third of its patch.
func plainJSON(v reflect.Value) (g any, ok bool) {
	for v.Kind() == reflect.Pointer {
		if customJSON(v.Type()) {
			return nil, false
		}
		if v.IsNil() {
			return nil, true
		}
		v = v.Elem()
	}
	t := v.Type()
	if customJSON(t) {
		return nil, false
	}
	switch t.Kind() {
	case reflect.String:
		return v.String(), utf8.ValidString(v.String())
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Struct:
		fields, ok := fieldsOf(t)
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(fields))
		for _, f := range fields {
			fv := v.FieldByIndex(f.index)
			if f.omitted(fv) {
				continue
			}
			if out[f.name], ok = plainJSON(fv); !ok {
				return nil, false
			}
		}
		return out, true
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil, false
		}
		if v.IsNil() {
			return nil, true
		}
		out := make([]any, v.Len())
		for i := range out {
			if out[i], ok = plainJSON(v.Index(i)); !ok {
				return nil, false
			}
		}
		return out, true
	case reflect.Map:
		if t.Key().Kind() != reflect.String || customJSON(t.Key()) {
			return nil, false
		}
		if v.IsNil() {
			return nil, true
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			k := it.Key().String()
			if !utf8.ValidString(k) {
				return nil, false
			}
			if out[k], ok = plainJSON(it.Value()); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

var customCache sync.Map // reflect.Type -> bool

// customJSON reports a type encoding/json does not write field by field.
func customJSON(t reflect.Type) bool {
	if c, ok := customCache.Load(t); ok {
		return c.(bool)
	}
	c := false
	for _, u := range []reflect.Type{t, reflect.PointerTo(t)} {
		if u.Implements(marshalerType) || u.Implements(textMarshalerType) {
			c = true
		}
	}
	customCache.Store(t, c)
	return c
}

// emptyValue is encoding/json's isEmptyValue, which decides omitempty.
func emptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// zeroer is how a type answers IsZero, which decides omitzero.
type zeroer uint8

const (
	noIsZero      zeroer = iota // the zero value
	valueIsZero                 // its own IsZero method
	pointerIsZero               // the IsZero method of its pointer (metav1.Time's)
)

// zeroerOf is t's zeroer, found once per field (Implements is costly).
func zeroerOf(t reflect.Type) zeroer {
	switch {
	case t.Implements(isZeroerType):
		return valueIsZero
	case reflect.PointerTo(t).Implements(isZeroerType):
		return pointerIsZero
	}
	return noIsZero
}

// zeroValue is encoding/json's test for omitzero: the type's IsZero
// method if it has one (metav1.Time does), else the zero value; z is
// zeroerOf(v.Type()).
func zeroValue(v reflect.Value, z zeroer) bool {
	switch {
	case v.Kind() == reflect.Pointer && v.IsNil():
		return true
	case z == valueIsZero:
		return v.Interface().(isZeroer).IsZero()
	case z == pointerIsZero:
		if !v.CanAddr() {
			c := reflect.New(v.Type()).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(isZeroer).IsZero()
	}
	return v.IsZero()
}

// jsonField is a struct field as encoding/json writes it.
type jsonField struct {
	name      string
	index     []int
	omitEmpty bool
	omitZero  bool
	zeroer    zeroer
}

// omitted reports that encoding/json leaves the field out.
func (f jsonField) omitted(v reflect.Value) bool {
	return f.omitEmpty && emptyValue(v) || f.omitZero && zeroValue(v, f.zeroer)
}

type fieldList struct {
	fields []jsonField
	ok     bool
}

var fieldCache sync.Map // reflect.Type -> fieldList

// fieldsOf lists the JSON fields of a struct in key order, embedded
// structs flattened. ok is false for what this walk does not mirror
// (embedded pointers, duplicate names, the string option):
// such a struct is compared as JSON whole.
func fieldsOf(t reflect.Type) ([]jsonField, bool) {
	if fl, ok := fieldCache.Load(t); ok {
		return fl.(fieldList).fields, fl.(fieldList).ok
	}
	var fields []jsonField
	ok := collectFields(t, nil, &fields)
	if ok {
		slices.SortFunc(fields, func(x, y jsonField) int { return strings.Compare(x.name, y.name) })
		for i := 1; i < len(fields); i++ {
			if fields[i].name == fields[i-1].name {
				ok = false
			}
		}
	}
	fieldCache.Store(t, fieldList{fields, ok})
	return fields, ok
}

func collectFields(t reflect.Type, index []int, out *[]jsonField) bool {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		idx := append(slices.Clone(index), i)
		if sf.Anonymous && name == "" {
			if sf.Type.Kind() != reflect.Struct {
				return false
			}
			if !collectFields(sf.Type, idx, out) {
				return false
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f := jsonField{name: name, index: idx}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty":
				f.omitEmpty = true
			case "omitzero":
				f.omitZero, f.zeroer = true, zeroerOf(sf.Type)
			case "string":
				return false
			}
		}
		*out = append(*out, f)
	}
	return true
}

// diff compares generic JSON values.
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
// "kubernetes.io/psp" is "kubernetes.io~1psp". The replacer is built once:
// building one per key cost a lookup table per key, which made a 3 MB
// pod's patch allocate 3 GB.
func escapePointer(k string) string {
	if !strings.ContainsAny(k, "~/") {
		return k
	}
	return pointerEscaper.Replace(k)
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
