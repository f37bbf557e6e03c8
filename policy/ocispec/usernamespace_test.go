package ocispec

import (
	"errors"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCheckJoinedUserNamespace: a user namespace joined by path is held to
// the same rule as one the spec maps, on the mappings the runtime read.
func TestCheckJoinedUserNamespace(t *testing.T) {
	rng := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
	identity := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	for _, tc := range []struct {
		name     string
		level    Level
		uid, gid []specs.LinuxIDMapping
		want     string
	}{
		{"a range", Restricted, rng, rng, ""},
		{"identity uid_map", Baseline, identity, rng,
			`linux.namespaces[7].path: "/proc/42/ns/user" (a user namespace whose uid_map[0]: container ID 0 -> host ID 0 (size 4294967295), covering host ID 0) is not allowed by the node policy "baseline": ID mappings onto the node's root`},
		{"gid 0", Restricted, rng, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}, {ContainerID: 65536, HostID: 0, Size: 1}},
			`linux.namespaces[7].path: "/proc/42/ns/user" (a user namespace whose gid_map[1]: container ID 65536 -> host ID 0 (size 1), covering host ID 0) is not allowed by the node policy "restricted": ID mappings onto the node's root`},
		{"identity under privileged", Privileged, identity, identity, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Policy{Level: tc.level}.CheckJoinedUserNamespace(7, "/proc/42/ns/user", tc.uid, tc.gid)
			got := ""
			if err != nil {
				got = err.Error()
				if !errors.Is(err, ErrRefused) {
					t.Errorf("CheckJoinedUserNamespace() = %v, not ErrRefused", err)
				}
			}
			if got != tc.want {
				t.Errorf("CheckJoinedUserNamespace(%s) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}
