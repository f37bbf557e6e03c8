package lc

import "testing"

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"9", 9, true}, {"KILL", 9, true}, {"kill", 9, true}, {"SIGKILL", 9, true}, {"sigterm", 15, true},
		{"USR1", 10, true}, {"0", 0, false}, {"65", 0, false}, {"NOPE", 0, false}, {"", 0, false},
	} {
		got, err := ParseSignal(tc.in)
		if (err == nil) != tc.ok || (tc.ok && int(got) != tc.want) {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
