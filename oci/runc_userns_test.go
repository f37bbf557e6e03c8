package oci

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestUserNamespaceAsRunc runs the same user-namespace bundles with runc
// and with podsec-runtime and compares what the container sees: the same
// uid_map, gid_map and identity, and for a plain bind the same owners.
// Idmapped mounts came with runc 1.2: runc 1.1 (Debian 12's 1.1.5) takes
// the bundle and silently mounts without the mapping (on-disk owners show
// as nobody), where podsec-runtime, on runc 1.5's libcontainer, maps them
// as runc 1.2 and later do; with such a runc the outputs must be equal.
func TestUserNamespaceAsRunc(t *testing.T) {
	requireRoot(t)
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatalf("runc: %v", err)
	}
	e := newEnv(t)
	version, err := exec.Command(runc, "--version").Output()
	if err != nil {
		t.Fatalf("runc --version: %v", err)
	}
	hasIDMap := !regexp.MustCompile(`(?m)^runc version 1\.[01]\.`).Match(version)
	script := "cat /proc/self/uid_map /proc/self/gid_map; id; stat -c '%n %u:%g' /data /data/of-1000 /data/of-70000"
	for _, tc := range []struct {
		name  string
		idmap bool
		mount func(vol string) specs.Mount
	}{
		{"plain bind", false, func(vol string) specs.Mount {
			return specs.Mount{Source: vol, Destination: "/data", Type: "bind", Options: []string{"bind", "ro"}}
		}},
		{"idmap", true, func(vol string) specs.Mount {
			return specs.Mount{Source: vol, Destination: "/data", Type: "bind", Options: []string{"bind", "idmap"}}
		}},
		{"mount mappings", true, func(vol string) specs.Mount {
			return specs.Mount{Source: vol, Destination: "/data", Type: "bind", Options: []string{"rbind"},
				UIDMappings: rangeMappings(usernsBase), GIDMappings: rangeMappings(usernsBase)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vol := volumeDir(t)
			b := usernsBundle(t, "userns-runc", usernsBase, func(b string, s *specs.Spec) {
				s.Process.Args = []string{"sh", "-c", script}
				if err := os.Symlink("busybox", filepath.Join(b, "rootfs", "bin", "stat")); err != nil {
					t.Fatal(err)
				}
				s.Mounts = append(s.Mounts, tc.mount(vol))
			})
			ours, errs, code := e.run("run", "--bundle", b, "ours")
			cmd := exec.Command(runc, "--root", t.TempDir(), "run", "--bundle", b, "theirs")
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			rerr := cmd.Run()
			if code != 0 || rerr != nil {
				t.Fatalf("podsec-runtime: exit %d, %s%s\nrunc: %v, %s%s", code, ours, errs, rerr, out.String(), stderr.String())
			}
			theirs := out.String()
			process := func(s string) string { return s[:strings.Index(s, "/data ")] }
			if process(ours) != process(theirs) {
				t.Errorf("the container's user namespace:\npodsec-runtime:\n%s\nrunc:\n%s", process(ours), process(theirs))
			}
			mapped := "/data 0:0\n/data/of-1000 1000:1000\n/data/of-70000 65534:65534\n"
			unmapped := "/data 65534:65534\n/data/of-1000 65534:65534\n/data/of-70000 65534:65534\n"
			owners := func(s string) string { return s[strings.Index(s, "/data "):] }
			wantOurs, wantTheirs := unmapped, unmapped
			if tc.idmap {
				wantOurs = mapped
				if hasIDMap {
					wantTheirs = mapped
				}
			}
			if owners(ours) != wantOurs || owners(theirs) != wantTheirs {
				t.Errorf("owners under /data:\npodsec-runtime:\n%s(want\n%s)runc %s:\n%s(want\n%s)", owners(ours), wantOurs, bytes.TrimSpace(version), owners(theirs), wantTheirs)
			}
		})
	}
}
