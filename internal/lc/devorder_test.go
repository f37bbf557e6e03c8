package lc

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func num(n int64) *int64 { return &n }

func TestOrderDevList(t *testing.T) {
	// The whitelist libcontainer leaves for runtime-tools'
	// linux_cgroups_devices: its transition order (sorted by number),
	// the spec's rules among its defaults.
	kernel := "b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nb 8:20 rw\nc 10:200 rwm\nb 10:200 r\nc 10:229 rwm\nc 136:* rwm\n"
	list, err := parseDevList(kernel)
	if err != nil {
		t.Fatal(err)
	}
	deny := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		want  string
	}{{
		name: "spec allows first, in order, then the rest as listed",
		rules: []specs.LinuxDeviceCgroup{deny,
			{Allow: true, Type: "c", Major: num(10), Minor: num(229), Access: "rwm"},
			{Allow: true, Type: "b", Major: num(8), Minor: num(20), Access: "rw"},
			{Allow: true, Type: "b", Major: num(10), Minor: num(200), Access: "r"}},
		want: "c 10:229 rwm, b 8:20 rw, b 10:200 r, b *:* m, c *:* m, c 1:3 rwm, c 1:5 rwm, c 10:200 rwm, c 136:* rwm",
	}, {
		name: "wildcards, a rule merged with a default keeps the kernel's access",
		rules: []specs.LinuxDeviceCgroup{deny,
			{Allow: true, Type: "c", Major: num(136), Access: "rw"},
			{Allow: true, Type: "c", Major: num(1), Minor: num(3), Access: "r"},
			{Allow: true, Type: "c", Major: num(-1), Minor: num(-1), Access: "m"}},
		want: "c 136:* rwm, c 1:3 rwm, c *:* m, b *:* m, c 1:5 rwm, b 8:20 rw, c 10:200 rwm, b 10:200 r, c 10:229 rwm",
	}, {
		name: "deny rules, a rule listed twice and one the list lacks place nothing",
		rules: []specs.LinuxDeviceCgroup{deny,
			{Allow: false, Type: "c", Major: num(1), Minor: num(5), Access: "rwm"},
			{Allow: true, Type: "c", Major: num(1), Minor: num(5), Access: "rwm"},
			{Allow: true, Type: "c", Major: num(1), Minor: num(5), Access: "r"},
			{Allow: true, Type: "c", Major: num(4), Minor: num(1), Access: "rwm"},
			{Allow: true, Access: "rwm"}},
		want: "c 1:5 rwm, b *:* m, c *:* m, c 1:3 rwm, b 8:20 rw, c 10:200 rwm, b 10:200 r, c 10:229 rwm, c 136:* rwm",
	}, {
		name:  "no allow rule: the list as it is",
		rules: []specs.LinuxDeviceCgroup{deny},
		want:  "b *:* m, c *:* m, c 1:3 rwm, c 1:5 rwm, b 8:20 rw, c 10:200 rwm, b 10:200 r, c 10:229 rwm, c 136:* rwm",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := orderDevList(list, tc.rules)
			if s := devListString(got); s != tc.want {
				t.Errorf("orderDevList() = %s, want %s", s, tc.want)
			}
			if !sameDevSet(got, list) {
				t.Errorf("orderDevList() changed the set: %s, from %s", devListString(got), devListString(list))
			}
		})
	}
}

func TestParseDevList(t *testing.T) {
	got, err := parseDevList("a *:* rwm\n")
	if err != nil || !slices.Equal(got, []devEntry{{typ: "a", major: "*", minor: "*", access: "rwm"}}) {
		t.Errorf("parseDevList(a *:* rwm) = %v, %v", got, err)
	}
	if got, err := parseDevList(""); err != nil || len(got) != 0 {
		t.Errorf("parseDevList(\"\") = %v, %v; want an empty list", got, err)
	}
	for _, bad := range []string{"c 1:3", "c 13 rwm", "c :3 rwm"} {
		if _, err := parseDevList(bad); err == nil {
			t.Errorf("parseDevList(%q) = nil error, want one", bad)
		}
	}
}

func TestSameDevSet(t *testing.T) {
	a, _ := parseDevList("c 1:3 rwm\nb *:* m")
	b, _ := parseDevList("b *:* m\nc 1:3 rwm")
	c, _ := parseDevList("b *:* m\nc 1:3 rw")
	if !sameDevSet(a, b) {
		t.Errorf("sameDevSet(%s, %s) = false", devListString(a), devListString(b))
	}
	if sameDevSet(a, c) || sameDevSet(a, a[:1]) {
		t.Errorf("sameDevSet: a different access or a missing entry is the same set")
	}
}
