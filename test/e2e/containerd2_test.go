//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// containerd2Config is deploy/containerd/containerd2.toml (config version
// 3) with this node's paths, as containerdConfig is config.toml for 1.6:
// its own root, state and sockets, the built shim as every handler's
// runtime_path (containerd looks on PATH first, where Debian's 1.6 shim
// is), the built runc and the podsec wrapper as BinaryName, a runc root per
// handler, restrict_oom_score_adj on (root lacks CAP_SYS_RESOURCE here),
// the CNI network and registry mirrors of startCRINode, and at baseline,
// unset_seccomp_profile on.
//
// The hybrid cgroup layout needs nothing: containerd 2 treats it as cgroup
// v1 (deprecated there, with a warning in its log) and the handlers use
// the cgroupfs driver (SystemdCgroup = false), as on 1.6.
func (n *criNode) containerd2Config(t *testing.T, cd containerdBin, podsecBin string, baseline bool) string {
	t.Helper()
	const file = "containerd2.toml"
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "containerd", file))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	replace := func(old, new string) {
		if !strings.Contains(s, old) {
			t.Fatalf("deploy/containerd/%s: no %q", file, old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	d := n.dir
	const runtimePlugin = "[plugins.'io.containerd.cri.v1.runtime']\n"
	replace("# restrict_oom_score_adj = true", "restrict_oom_score_adj = true")
	if baseline {
		replace(`# unset_seccomp_profile = "runtime/default"`, `unset_seccomp_profile = "runtime/default"`)
	}
	replace(`BinaryName = "/usr/local/bin/podsec-runtime"`, fmt.Sprintf("BinaryName = %q", podsecBin))
	replace(runtimePlugin, runtimePlugin+"  netns_mounts_under_state_dir = true\n")
	types := regexp.MustCompile(`(?m)^(\s*)runtime_type = "io\.containerd\.runc\.v2"\n`)
	s = types.ReplaceAllString(s, fmt.Sprintf("$0${1}runtime_path = %q\n", cd.shim))
	opts := regexp.MustCompile(`(?m)^(\s*)\[plugins\.'io\.containerd\.cri\.v1\.runtime'\.containerd\.runtimes\.([a-z-]+)\.options\]\n`)
	s = opts.ReplaceAllString(s, fmt.Sprintf("$0$1  Root = \"%s/runtime-root/$2\"\n", d))
	replace("[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n",
		fmt.Sprintf("[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n        BinaryName = %q\n", cd.runc))
	return fmt.Sprintf(`# Written by test/e2e from deploy/containerd/%[4]s.
root = "%[1]s/root"
state = "%[1]s/state"
oom_score = 0

%[2]s
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "%[1]s/net.d"
    max_conf_num = 1

[plugins.'io.containerd.cri.v1.images']
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = %[3]q
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "%[1]s/certs.d"

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins.'io.containerd.internal.v1.opt']
  path = "%[1]s/opt"

[grpc]
  address = "%[1]s/c.sock"

[ttrpc]
  address = "%[1]s/c.sock.ttrpc"
`, d, s, sandboxImage, file)
}

// minPodsecPassesContainerd2 is the floor of critest cases podsec-runtime
// must pass through containerd 2 (runc passes as many: the rest are the
// image pinned by a digest no stand-in can have, MaskedPaths on the
// stand-in's /bin/ls symlink, NRI without its socket, AppArmor, an image
// volume's digest and critest's benchmarks).
const minPodsecPassesContainerd2 = 112

// newFeatureSkips are the skip messages of the critest cases that need a
// containerd 2: on it, none of them may skip, with either handler.
var newFeatureSkips = []string{
	"no runtime handler found which supports user namespaces",
	"ID mapping is not supported",
	"runtime does not implement recursive readonly mounts",
	"The runtime does not support SupplementalGroupsPolicy feature",
}

// TestCritestContainerd2 runs critest through containerd 2's CRI (built by
// scripts/e2e-build) as TestCritest does through containerd 1.6: with the
// handlers runc (built at the runc of podsec's go.mod) and podsec
// (podsec-runtime, node policy privileged), where the user namespace,
// recursive read-only and SupplementalGroupsPolicy cases run and
// podsec-runtime must pass every case runc passes; then with podsec on a
// baseline node, where every case that no longer passes must fail with
// podsec's refusal.
func TestCritestContainerd2(t *testing.T) {
	if os.Geteuid() != 0 {
		need(t, "root")
	}
	r := runCritest(t, builtContainerd2(t))
	runc, podsec := r.runc, r.podsec
	t.Logf("critest on containerd 2, runc:               %s", totals(runc))
	t.Logf("critest on containerd 2, podsec-runtime:     %s", totals(podsec))
	t.Logf("critest on containerd 2, podsec at baseline: %s", totals(r.baseline))
	compareHandlers(t, runc, podsec, minPodsecPassesContainerd2)
	for handler, rs := range map[string]map[string]critestResult{"runc": runc, "podsec": podsec} {
		for _, name := range sortedNames(rs) {
			if rs[name].Status != "skipped" {
				continue
			}
			for _, msg := range newFeatureSkips {
				if strings.Contains(rs[name].Message, msg) {
					t.Errorf("critest %q skipped with handler %s on containerd 2: %s", name, handler, firstLine(rs[name].Message))
				}
			}
		}
	}
	for _, name := range sortedNames(podsec) {
		if r := podsec[name]; r.Status == "failed" {
			t.Logf("failed with podsec-runtime (runc: %s): %q: %s", runc[name].Status, name, firstLine(r.Message))
		}
	}
	checkBaseline(t, podsec, r.baseline, r.policy)
}
