package oci

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// podGetcwd prints its working directory with getcwd(2) (busybox
// realpath) and what that gave.
const podGetcwd = `apiVersion: v1
kind: Pod
metadata:
  name: NAME
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["/bin/sh", "-c", "realpath . 2>&1; echo rc=$?"]
`

// TestSeccompGetcwdKnownDifference pins the reason runtime-tools'
// linux_seccomp fails (docs/oci-runtime.md, "Known differences"): a
// profile that makes getcwd fail stops libcontainer's init at its
// CVE-2024-21626 working-directory check when noNewPrivileges is false
// (the profile is loaded before the check), and applies to the process
// when it is true (loaded after). Should libcontainer change either
// order, this test fails and the known difference is to be looked at
// again.
func TestSeccompGetcwdKnownDifference(t *testing.T) {
	e := newEnv(t)
	for _, nnp := range []bool{false, true} {
		name := map[bool]string{false: "getcwd-nnp-false", true: "getcwd-nnp-true"}[nnp]
		b := bundle(t, podGetcwd, name, func(s *specs.Spec) {
			s.Process.NoNewPrivileges = nnp
			s.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno}},
			}
		})
		if err := symlinkApplet(b, "realpath"); err != nil {
			t.Fatal(err)
		}
		out, errs, code := e.run("run", "--bundle", b, name)
		if !nnp {
			if code == 0 || !strings.Contains(errs, "failed to verify if current working directory is safe: getwd: operation not permitted") {
				t.Errorf("run with noNewPrivileges false: exit %d, %s%s; want the init's working-directory check to fail", code, out, errs)
			}
			continue
		}
		if code != 0 || !strings.Contains(out, "Operation not permitted") || !strings.Contains(out, "rc=1") {
			t.Errorf("run with noNewPrivileges true: exit %d, %s%s; want realpath to fail with EPERM inside", code, out, errs)
		}
	}
}
