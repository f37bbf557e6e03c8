package jsonw

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestValue: a value is written as json.Marshal writes it, and after
// what the writer holds.
func TestValue(t *testing.T) {
	for _, v := range []any{nil, "<a&b>\u2028", 1.5, []string{"x"}, map[string]any{"b": 1, "a": []any{nil}}, struct {
		A int `json:"a,omitempty"`
		B string
	}{B: "b"}} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w := New(&buf)
		w.Raw(`{"k":`)
		if err := w.Value(v); err != nil || buf.String() != `{"k":`+string(want) {
			t.Errorf("Value(%#v) wrote %s, %v; want {\"k\":%s", v, buf.String(), err, want)
		}
	}
	if err := New(new(bytes.Buffer)).Value(func() {}); err == nil {
		t.Error("Value(func) = nil, want json's error")
	}
}
