package attack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/test/harness"
)

// TestRedteamOCIIdmapOnDiskRoot: an idmapped bind whose mapping puts
// on-disk ID 0 (the mapping's containerID) on the container's own user
// (hostID 1000), in a bundle the restricted level otherwise runs: no
// capability, uid 1000, no privilege escalation, no user namespace. The
// node policy looked only at hostIDs, the IDs of the node's processes,
// and let it through; through the mount the container's user is the
// node's root on disk, so it wrote a setuid copy of a program owned by
// the node's root into a node directory, which `nobody` ran as euid 0.
func TestRedteamOCIIdmapOnDiskRoot(t *testing.T) {
	// A node directory every node user can walk to.
	host, err := os.MkdirTemp("", "podsec-rt-idmap-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(host) })
	if err := os.Chmod(host, 0o777); err != nil {
		t.Fatal(err)
	}
	b := newOCIBundle(t, "rtidmap", true, "/bin/sh", "-c", "cat /attacker > /host/suid && /bin/busybox chmod 6755 /host/suid && /bin/busybox ls -ln /host/suid")
	bind := specs.Mount{Destination: "/host", Type: "bind", Source: host, Options: []string{"rbind", "rw", "idmap"},
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}}
	b.spec.Mounts = append(b.spec.Mounts, bind)
	out, code := b.run("level: restricted", "allowedBindSources: ["+host+"]")
	if code == 0 {
		if uid, gid := ownerOf(t, filepath.Join(host, "suid")); uid == 0 || gid == 0 {
			t.Errorf("a container user with no capability made %s/suid %d:%d on disk", host, uid, gid)
		}
		if got := runAs(t, filepath.Join(host, "suid"), 65534, 65534, "euid"); strings.Contains(got, "euid 0 ") {
			t.Errorf("nobody ran the container's setuid copy as the node's root: %s", got)
		}
	}
	expectRefused(t, out, code, `mounts[6].uidMappings[0]: container ID 0 -> host ID 1000 (size 1)`, "/host/suid")
	if _, err := os.Stat(filepath.Join(host, "suid")); err == nil {
		t.Errorf("the refused bundle wrote %s", filepath.Join(host, "suid"))
	}
	// Control: the same bind without the mapping runs; what the user
	// writes is its own.
	b.spec.Mounts[len(b.spec.Mounts)-1] = specs.Mount{Destination: "/host", Type: "bind", Source: host, Options: []string{"rbind", "rw"}}
	out, code = b.run("level: restricted", "allowedBindSources: ["+host+"]")
	if code != 0 {
		t.Fatalf("the control bundle: exit %d\n%s", code, out)
	}
	harness.ExpectLine(t, squeeze(out), "1 1000 1000")
	if uid, gid := ownerOf(t, filepath.Join(host, "suid")); uid != 1000 || gid != 1000 {
		t.Errorf("the control wrote %s/suid as %d:%d on disk, want 1000:1000", host, uid, gid)
	}
	os.Remove(filepath.Join(host, "suid"))
}

// TestRedteamOCIJoinNodeUserNamespace: a bundle joins the node's own user
// namespace by path (/proc/1/ns/user), stating no mappings, or stating
// those of an ordinary range so that a check that read only the spec
// would see a user namespace of the pod's kind. Both are refused (the
// first by the node policy, from the namespace's own mappings; the
// second where the namespace's mappings are compared with the spec's) and
// the process never runs. Held on main.
func TestRedteamOCIJoinNodeUserNamespace(t *testing.T) {
	rng := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
	for _, tc := range []struct {
		name string
		maps []specs.LinuxIDMapping
		want string
	}{
		{"no mappings", nil, `linux.namespaces[5].path: "/proc/1/ns/user" (a user namespace whose uid_map[0]: container ID 0 -> host ID 0`},
		{"a range's mappings", rng, "non-matching mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newOCIBundle(t, "rtjoinuser", false, "/attacker", "euid")
			b.spec.Linux.Namespaces = append(b.spec.Linux.Namespaces, specs.LinuxNamespace{Type: "user", Path: "/proc/1/ns/user"})
			b.spec.Linux.UIDMappings, b.spec.Linux.GIDMappings = tc.maps, tc.maps
			out, code := b.run("level: baseline")
			expectRefused(t, out, code, tc.want, "OK euid")
		})
	}
}
