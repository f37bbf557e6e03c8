package oci

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// usernsBase is the first host ID of the tests' user namespaces: far
// above any account of the machine, below podsec's own pod ranges.
const usernsBase = 1 << 30

// rangeMappings map container IDs 0-65535 onto the host range at base.
func rangeMappings(base uint32) []specs.LinuxIDMapping {
	return []specs.LinuxIDMapping{{ContainerID: 0, HostID: base, Size: 65536}}
}

// withUserNamespace gives a spec its own user namespace mapped onto base,
// and runs its process as container root. The rootfs is chowned to the
// range, as an engine's storage does for --userns (podman chowns its
// layers, containerd idmaps them): the container's root creates the
// mount points it needs in it.
func withUserNamespace(t *testing.T, b string, base uint32) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = rangeMappings(base)
		s.Linux.GIDMappings = rangeMappings(base)
		s.Process.User = specs.User{UID: 0, GID: 0}
		chownTree(t, filepath.Join(b, "rootfs"), int(base))
	}
}

// chownTree shifts the owners of a tree by base (lchown: symlinks too).
func chownTree(t *testing.T, dir string, base int) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		return os.Lchown(p, base+int(st.Uid), base+int(st.Gid))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// usernsBundle is a bundle of podSleep with its own user namespace on
// base, edited further by edit. The bundle directory is known only once
// bundle returns, so the rootfs is chowned here.
func usernsBundle(t *testing.T, name string, base uint32, edit func(b string, s *specs.Spec)) string {
	t.Helper()
	b := bundle(t, podSleep, name, nil)
	traversable(t, filepath.Join(filepath.Dir(filepath.Dir(b)), "podsec"))
	traversable(t, b)
	editSpec(t, b, func(s *specs.Spec) {
		withUserNamespace(t, b, base)(s)
		if edit != nil {
			edit(b, s)
		}
	})
	return b
}

// traversable lets every user through dir and the test directories above
// it (t.TempDir makes them 0700), as an engine's storage does (0711):
// the container's root is a range ID, not the node's root, and
// libcontainer mounts the rootfs and the bind sources as that ID.
func traversable(t *testing.T, dir string) {
	t.Helper()
	for p := dir; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() && fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o011); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// editSpec rewrites a bundle's config.json through edit.
func editSpec(t *testing.T, b string, edit func(*specs.Spec)) {
	t.Helper()
	path := filepath.Join(b, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	edit(&s)
	data, err = json.MarshalIndent(&s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mkfile(t, path, string(data))
}

// hostIDs are the real uid and gid of a process, from the node.
func hostIDs(t *testing.T, pid int) (uid, gid string) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[0] == "Uid:" {
			uid = f[1]
		}
		if len(f) > 1 && f[0] == "Gid:" {
			gid = f[1]
		}
	}
	return uid, gid
}

// volumeDir is a node directory holding a file of owner 1000:1000 and one
// of 70000 (outside a 65536 range), for idmapped mounts.
func volumeDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	traversable(t, d)
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]int{"of-1000": 1000, "of-70000": 70000} {
		p := filepath.Join(d, name)
		mkfile(t, p, name)
		if err := os.Lchown(p, id, id); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestUserNamespace runs a bundle with linux.uidMappings/gidMappings and
// idmapped bind mounts: container root is a range ID on the node, the
// container reads its own uid_map, an idmap mount (the container's
// mappings) and a ridmap mount (mappings of its own) show the on-disk
// owners as container IDs, and what container root writes through them is
// owned by root on disk, as with the kubelet's idmapped volumes.
func TestUserNamespace(t *testing.T) {
	e := newEnv(t)
	vol, vol2, plain := volumeDir(t), volumeDir(t), t.TempDir()
	traversable(t, plain)
	if err := os.Chmod(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	b := usernsBundle(t, "userns", usernsBase, func(b string, s *specs.Spec) {
		s.Process.Args = []string{"sleep", "600"}
		for _, a := range []string{"stat", "mkdir", "rm"} {
			if err := os.Symlink("busybox", filepath.Join(b, "rootfs", "bin", a)); err != nil {
				t.Fatal(err)
			}
		}
		s.Mounts = append(s.Mounts,
			specs.Mount{Source: vol, Destination: "/data", Type: "bind", Options: []string{"bind", "idmap"}},
			specs.Mount{Source: vol2, Destination: "/data2", Type: "bind", Options: []string{"rbind", "ridmap"},
				UIDMappings: rangeMappings(usernsBase), GIDMappings: rangeMappings(usernsBase)},
			specs.Mount{Source: plain, Destination: "/plain", Type: "bind", Options: []string{"bind", "rw"}})
	})
	e.must("run", "-d", "--bundle", b, "userns")
	defer e.run("delete", "--force", "userns")

	st := e.state("userns")
	if uid, gid := hostIDs(t, st.Pid); uid != strconv.Itoa(usernsBase) || gid != strconv.Itoa(usernsBase) {
		t.Errorf("container root on the node: uid %s gid %s, want %d (the range's first ID)", uid, gid, usernsBase)
	}
	want := fmt.Sprintf("0 %d 65536", usernsBase)
	for _, f := range []string{"/proc/self/uid_map", "/proc/self/gid_map"} {
		if out := e.must("exec", "userns", "cat", f); strings.Join(strings.Fields(out), " ") != want {
			t.Errorf("exec cat %s = %q, want %q", f, out, want)
		}
	}
	if out := e.must("exec", "userns", "id"); strings.TrimSpace(out) != "uid=0(root) gid=0(root)" {
		t.Errorf("exec id = %q, want root in the container", out)
	}
	for _, dir := range []string{"/data", "/data2"} {
		out := e.must("exec", "userns", "stat", "-c", "%n %u:%g", dir, dir+"/of-1000", dir+"/of-70000")
		wantOwners := dir + " 0:0\n" + dir + "/of-1000 1000:1000\n" + dir + "/of-70000 65534:65534\n"
		if out != wantOwners {
			t.Errorf("owners through the idmapped %s:\n%s\nwant (on-disk IDs as container IDs, unmapped as nobody):\n%s", dir, out, wantOwners)
		}
		e.must("exec", "userns", "sh", "-c", "echo x > "+dir+"/by-root && mkdir "+dir+"/dir-by-root")
	}
	for _, d := range []string{vol, vol2} {
		for _, name := range []string{"by-root", "dir-by-root"} {
			fi, err := os.Lstat(filepath.Join(d, name))
			if err != nil {
				t.Fatal(err)
			}
			if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 0 {
				t.Errorf("%s written by container root through an idmapped mount: owner %d:%d on disk, want 0:0", name, st.Uid, st.Gid)
			}
		}
	}
	// Without an idmap a node directory keeps the node's owners: root's
	// 0755 directory is not container root's to write.
	if _, errs, code := e.run("exec", "userns", "sh", "-c", "echo x > /plain/f"); code == 0 || !strings.Contains(errs, "Permission denied") {
		t.Errorf("container root writing a node root's directory without idmap: exit %d, %q; want Permission denied", code, errs)
	}
}

// holdUserNamespace starts a process in a new user namespace and writes
// its uid_map and gid_map (as a runtime does; newuidmap is not needed by
// root); it returns the namespace's path. The process is killed when the
// test ends.
func holdUserNamespace(t *testing.T, idMap string) string {
	t.Helper()
	cmd := exec.Command("unshare", "--user", "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	pid := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); strings.HasSuffix(exe, "/sleep") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare --user: sleep did not start within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, f := range []string{"uid_map", "gid_map"} {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/%s", pid, f), []byte(idMap+"\n"), 0); err != nil {
			t.Fatalf("writing %s of %d: %v", f, pid, err)
		}
	}
	return fmt.Sprintf("/proc/%d/ns/user", pid)
}

// joinUserNamespace makes a spec join the user namespace at path, without
// stating its mappings (runc reads them from the namespace).
func joinUserNamespace(path string) func(b string, s *specs.Spec) {
	return func(_ string, s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.UserNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
		s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
	}
}

// TestUserNamespacePolicy: under a baseline node policy, user namespaces
// and idmapped mounts of a range run, and every mapping that reaches the
// node's root user or group is refused with its field, whether the spec
// maps the namespace, an idmapped mount, or joins a namespace by path;
// nothing is left of a refused container.
func TestUserNamespacePolicy(t *testing.T) {
	requireRoot(t)
	vol := volumeDir(t)
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	policyFor := func(b string) {
		mkfile(t, pol, "level: baseline\nallowedBindSources: ["+filepath.Join(filepath.Dir(filepath.Dir(b)), "podsec")+", "+vol+"]\n")
	}
	e := newEnv(t, "--policy", pol)
	idmapped := func(ms ...specs.LinuxIDMapping) func(string, *specs.Spec) {
		return func(_ string, s *specs.Spec) {
			m := specs.Mount{Source: vol, Destination: "/data", Type: "bind", Options: []string{"bind", "idmap"}}
			if ms != nil {
				m.UIDMappings, m.GIDMappings = ms, rangeMappings(usernsBase)
			}
			s.Mounts = append(s.Mounts, m)
		}
	}
	t.Run("a range and idmapped mounts run", func(t *testing.T) {
		b := usernsBundle(t, "userns-ok", usernsBase, func(b string, s *specs.Spec) {
			idmapped()(b, s)
			s.Process.Args = []string{"true"}
		})
		policyFor(b)
		out, errs, code := e.run("run", "--bundle", b, "userns-ok")
		if code != 0 {
			t.Fatalf("run under baseline: exit %d, %s%s", code, out, errs)
		}
	})
	t.Run("a joined namespace of a range runs", func(t *testing.T) {
		r := fmt.Sprint(usernsBase)
		path := holdUserNamespace(t, "0 "+r+" 65536")
		b := usernsBundle(t, "userns-join", usernsBase, joinUserNamespace(path))
		policyFor(b)
		e.must("run", "-d", "--bundle", b, "userns-join")
		defer e.run("delete", "--force", "userns-join")
		if uid, _ := hostIDs(t, e.state("userns-join").Pid); uid != r {
			t.Errorf("container root in the joined namespace: host uid %s, want %s", uid, r)
		}
	})

	for _, tc := range []struct {
		name string
		edit func(path string) func(string, *specs.Spec)
		hold string // the uid_map and gid_map of a namespace to join
		want string
	}{
		{name: "uid mapping onto host 0", edit: func(string) func(string, *specs.Spec) {
			return func(_ string, s *specs.Spec) { s.Linux.UIDMappings = rangeMappings(0) }
		}, want: `linux.uidMappings[0]: container ID 0 -> host ID 0 (size 65536), covering host ID 0 is not allowed by the node policy "baseline": ID mappings onto the node's root`},
		{name: "gid mapping reaching host 0", edit: func(string) func(string, *specs.Spec) {
			return func(_ string, s *specs.Spec) {
				s.Linux.GIDMappings = append(rangeMappings(usernsBase), specs.LinuxIDMapping{ContainerID: 65536, HostID: 0, Size: 1})
			}
		}, want: `linux.gidMappings[1]: container ID 65536 -> host ID 0 (size 1), covering host ID 0 is not allowed by the node policy "baseline"`},
		{name: "idmapped mount onto host 0", edit: func(string) func(string, *specs.Spec) {
			return idmapped(specs.LinuxIDMapping{ContainerID: 1000, HostID: 0, Size: 1})
		}, want: `.uidMappings[0]: container ID 1000 -> host ID 0 (size 1), covering host ID 0 is not allowed by the node policy "baseline": ID mappings onto the node's root`},
		{name: "joined namespace mapping host root", hold: "0 0 1",
			edit: func(path string) func(string, *specs.Spec) { return joinUserNamespace(path) },
			want: `(a user namespace whose uid_map[0]: container ID 0 -> host ID 0 (size 1), covering host ID 0) is not allowed by the node policy "baseline": ID mappings onto the node's root`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.hold != "" {
				path = holdUserNamespace(t, tc.hold)
			}
			b := usernsBundle(t, "userns-refused", usernsBase, func(b string, s *specs.Spec) {
				tc.edit(path)(b, s)
				s.Process.Args = []string{"true"} // ends, should a check miss it
			})
			policyFor(b)
			_, errs, code := e.run("run", "--bundle", b, "userns-refused")
			if code == 0 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "(node policy in "+pol+")") {
				t.Errorf("run: exit %d, stderr %q; want refused with %q", code, errs, tc.want)
			}
			if tc.hold != "" && !strings.Contains(errs, fmt.Sprintf("linux.namespaces[%d].path: %q", userNamespaceIndex(t, b), path)) {
				t.Errorf("run: stderr %q does not name the namespace's path", errs)
			}
			if out := e.must("list", "-q"); out != "" {
				t.Errorf("a refused container left state: %q", out)
			}
			ents, _ := os.ReadDir(e.root)
			ents = slices.DeleteFunc(ents, func(d os.DirEntry) bool { return d.Name() == cacheDir }) // the seccomp cache
			if len(ents) != 0 {
				t.Errorf("a refused container left %d entries in the runtime's root", len(ents))
			}
		})
	}
}

// userNamespaceIndex is the index of the user namespace in a bundle's
// linux.namespaces.
func userNamespaceIndex(t *testing.T, b string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	for i, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			return i
		}
	}
	return -1
}
