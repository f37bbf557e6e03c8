package term

import (
	"bytes"
	"fmt"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, tabs\tand\nnewlines", "plain text, tabs\tand\nnewlines"},
		{"héllo wörld ✓ 日本", "héllo wörld ✓ 日本"},
		{"\x1b]0;pwned\x07", "^[]0;pwned^G"},
		{"\x1b[2J\x1b[H", "^[[2J^[[H"},
		{"over\rwrite", `over\rwrite`},
		{"nul\x00 bs\x08 del\x7f", "nul^@ bs^H del^?"},
		{"csi \u009b31m nel \u0085", `csi \u009b31m nel \u0085`},
		{"raw 8-bit csi \x9b31m", `raw 8-bit csi \x9b31m`},
		{"invalid but harmless \xff\xfe", "invalid but harmless \xff\xfe"},
	}
	for _, tc := range tests {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriterSplitRunes(t *testing.T) {
	in := "ü\u0085日\x1b[2J✓"
	for cut := range len(in) + 1 {
		var out bytes.Buffer
		w := NewWriter(&out)
		for _, part := range []string{in[:cut], in[cut:]} {
			if n, err := fmt.Fprint(w, part); err != nil || n != len(part) {
				t.Fatalf("Write(%q) = %d, %v", part, n, err)
			}
		}
		if want := Escape(in); out.String() != want {
			t.Errorf("writes cut at %d gave %q, want %q", cut, out.String(), want)
		}
	}
}
