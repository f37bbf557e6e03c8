package jsonw

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzValue: Value writes what json.Marshal writes, byte for byte, after
// whatever the writer holds, for strings of any bytes (invalid UTF-8,
// U+2028/2029, <>&, control characters, quotes and backslashes), map keys
// that need escaping, huge and negative numbers and nested values; and
// the document parses back to the same value (strings as json.Unmarshal
// makes them valid UTF-8).
func FuzzValue(f *testing.F) {
	f.Add("plain", "key", int64(1), uint64(2), 1.5, uint8(1))
	f.Add("<a&b>\u2028\u2029\x00\x1f\x7f\"\\", "k\"}:{\"x", int64(-1)<<63, uint64(1)<<63, 1e21, uint8(0))
	f.Add("\xff\xfe\xc3", "\xed\xa0\x80", int64(1)<<53+1, ^uint64(0), -0.0, uint8(40))
	f.Add("", "", int64(0), uint64(0), 5e-324, uint8(255))
	f.Fuzz(func(t *testing.T, s, key string, i int64, u uint64, fl float64, depth uint8) {
		var nested any = s
		for range int(depth) % 64 {
			nested = map[string]any{key: []any{nested, i}}
		}
		values := []any{s, []string{s, key}, map[string]string{key: s, s: key}, i, u, fl, nested,
			struct {
				A string            `json:"a,omitempty"`
				B map[string]int64  `json:"b"`
				C *string           `json:",omitempty"`
				D []byte            `json:"d"`
				E map[string]uint64 `json:"e,omitempty"`
			}{A: s, B: map[string]int64{key: i}, C: &key, D: []byte(s), E: map[string]uint64{s: u}}}
		for _, v := range values {
			want, wantErr := json.Marshal(v)
			var buf bytes.Buffer
			w := New(&buf)
			w.Raw(`{"k":`)
			err := w.Value(v)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("Value(%#v): error %v, json.Marshal's %v", v, err, wantErr)
			}
			if err != nil {
				continue
			}
			w.Raw("}")
			if got := buf.String(); got != `{"k":`+string(want)+"}" {
				t.Fatalf("Value(%#v) wrote %s, want {\"k\":%s}", v, got, want)
			}
			var back, again map[string]any
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back) != 1 {
				t.Fatalf("Value(%#v): %s does not parse back as one member: %v", v, buf.String(), err)
			}
			if err := json.Unmarshal([]byte(`{"k":`+string(want)+"}"), &again); err != nil || !reflect.DeepEqual(back, again) {
				t.Fatalf("Value(%#v) parses back to %#v, json.Marshal's to %#v (%v)", v, back, again, err)
			}
			if str, ok := v.(string); ok && back["k"] != strings.ToValidUTF8(str, "\ufffd") && !strings.Contains(str, "\ufffd") && utf8Valid(str) {
				t.Fatalf("Value(%q) parses back to %q", str, back["k"])
			}
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }
