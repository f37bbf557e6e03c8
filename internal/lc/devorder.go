package lc

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// devEntry is one line of a cgroup v1 devices.list: "c 1:3 rwm". Major
// and minor are kept as the kernel prints them ("*" for any).
type devEntry struct {
	typ, major, minor, access string
}

// key is what the kernel merges entries on: an allow written for the
// type and numbers of an existing entry widens that entry's access.
func (d devEntry) key() string { return d.typ + " " + d.major + ":" + d.minor }

func (d devEntry) String() string { return d.key() + " " + d.access }

// parseDevList parses the text of a devices.list.
func parseDevList(text string) ([]devEntry, error) {
	var list []devEntry
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("devices.list line %q: want TYPE MAJOR:MINOR ACCESS", line)
		}
		major, minor, ok := strings.Cut(f[1], ":")
		if !ok || major == "" || minor == "" {
			return nil, fmt.Errorf("devices.list line %q: want MAJOR:MINOR", line)
		}
		list = append(list, devEntry{typ: f[0], major: major, minor: minor, access: f[2]})
	}
	return list, nil
}

// devNumber prints a spec rule's major or minor as devices.list does:
// unset or -1 (libcontainer's wildcard) is "*".
func devNumber(n *int64) string {
	if n == nil || *n == -1 {
		return "*"
	}
	return strconv.FormatInt(*n, 10)
}

// orderDevList orders the entries of list (a whitelist the kernel holds)
// as the spec lists its rules: first each entry whose type and numbers
// are those of an allow rule of rules, in the order of the first such
// rule, then every other entry in list's own order. The entries are
// list's, access included (the kernel's, which may merge a rule with
// libcontainer's defaults): only the order changes, never the set.
func orderDevList(list []devEntry, rules []specs.LinuxDeviceCgroup) []devEntry {
	placed := make([]bool, len(list))
	out := make([]devEntry, 0, len(list))
	for _, r := range rules {
		if !r.Allow {
			continue
		}
		key := r.Type + " " + devNumber(r.Major) + ":" + devNumber(r.Minor)
		for i, d := range list {
			if !placed[i] && d.key() == key {
				placed[i] = true
				out = append(out, d)
			}
		}
	}
	for i, d := range list {
		if !placed[i] {
			out = append(out, d)
		}
	}
	return out
}

// sameDevSet says whether a and b hold the same entries, in any order.
func sameDevSet(a, b []devEntry) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[devEntry]int, len(a))
	for _, d := range a {
		seen[d]++
	}
	for _, d := range b {
		if seen[d] == 0 {
			return false
		}
		seen[d]--
	}
	return true
}

func devListString(list []devEntry) string {
	s := make([]string, len(list))
	for i, d := range list {
		s[i] = d.String()
	}
	return strings.Join(s, ", ")
}
