//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podsec/podsec/test/harness"
)

// criNode is a containerd with the CRI plugin, started by a test with its
// own root, state, sockets, runc roots, CNI network and registry mirrors,
// all under one temporary directory, configured from the files of
// deploy/containerd/ as a node would be: Debian's containerd 1.6 from
// config.toml, or containerd 2 (scripts/e2e-build) from containerd2.toml.
// Its handlers are the deploy file's: runc, and podsec, podsec-runtime with
// the node policy
//
//   - "level: privileged" (baseline false), to compare podsec-runtime with
//     runc on every case;
//   - deploy/containerd/runtime-policy.yaml, or for containerd 2
//     runtime-policy-containerd2.yaml (baseline true), with the deploy
//     file's unset_seccomp_profile line on, as a baseline node has it.
type criNode struct {
	dir      string
	endpoint string // unix:// socket of the CRI
	crictl   string
	policy   string // podsec-runtime's node policy file
}

// containerdBin is one containerd the suite starts.
type containerdBin struct {
	major int    // 1: Debian's containerd 1.6; 2: containerd 2.x
	path  string // the containerd binary
	// shim and runc are containerd 2's: its containerd-shim-runc-v2 (the
	// one on PATH is Debian's, of 1.6), and the runc handler's binary
	// (Debian's runc 1.1 predates the idmapped mounts of its user
	// namespaces). Empty: found on PATH.
	shim, runc string
}

// debianContainerd is Debian's containerd 1.6 and runc, from PATH.
func debianContainerd(t *testing.T) containerdBin {
	t.Helper()
	for _, bin := range []string{"containerd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			need(t, fmt.Sprintf("%s (scripts/setup installs containerd and runc): %v", bin, err))
		}
	}
	return containerdBin{major: 1, path: "containerd"}
}

// builtContainerd2 is containerd 2, its shim and runc, built by
// scripts/e2e-build at the versions of scripts/e2e-versions.
func builtContainerd2(t *testing.T) containerdBin {
	t.Helper()
	return containerdBin{major: 2, path: e2eBin(t, "containerd"),
		shim: e2eBin(t, "containerd-shim-runc-v2"), runc: e2eBin(t, "runc")}
}

// cniSubnetOctet picks the third octet of the test network, 10.91.X.0/24.
func cniSubnetOctet() int { return os.Getpid()%200 + 20 }

// startCRINode starts containerd; its cleanup removes every pod, stops
// containerd and the shims it left by PID, unmounts and removes what they
// made, and deletes the bridge.
func startCRINode(t *testing.T, registryHost string, cd containerdBin, baseline bool) *criNode {
	t.Helper()
	for _, bin := range []string{"/usr/lib/cni/bridge", "/usr/lib/cni/portmap", "/usr/lib/cni/loopback", "ipcmk"} {
		if _, err := exec.LookPath(bin); err != nil {
			need(t, fmt.Sprintf("%s (scripts/setup installs containernetworking-plugins, util-linux): %v", bin, err))
		}
	}
	// Short: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "pscri-")
	if err != nil {
		t.Fatal(err)
	}
	// Searchable by all, as containerd makes /run/containerd: a container
	// in a user namespace runs as a host ID that must still reach its
	// rootfs under the state directory (0700 fails the pod with EACCES).
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 2)
	_, _ = rand.Read(suffix)
	bridge := "pscri" + hex.EncodeToString(suffix)
	n := &criNode{dir: dir, endpoint: "unix://" + filepath.Join(dir, "c.sock"), crictl: e2eBin(t, "crictl"),
		policy: filepath.Join(dir, "runtime-policy.yaml")}
	shm := snapshotShm()
	t.Cleanup(func() { removeNewShm(t, shm) })

	hostDirs := snapshotGlobs("/sys/fs/cgroup/*/test.slice", "/run/containerd/*", "/run/containerd")
	t.Cleanup(func() { n.cleanup(t, bridge, hostDirs) })

	rt := harness.RuntimeBin(t)
	if baseline {
		file := "runtime-policy.yaml"
		if cd.major == 2 {
			file = "runtime-policy-containerd2.yaml"
		}
		policy, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "containerd", file))
		if err != nil {
			t.Fatal(err)
		}
		// The deploy file leaves the bind sources at their defaults,
		// which hold containerd's /var/lib/containerd and /run/containerd:
		// here they are this containerd's root and state.
		writeFile(t, n.policy, fmt.Sprintf("%s\n# test/e2e: this containerd's root and state\nallowedBindSources: [%s/root, %s/state]\n",
			policy, dir, dir), 0o644)
	} else {
		writeFile(t, n.policy, "level: privileged\n", 0o644)
	}
	// The runc shim runs BinaryName with runc's arguments only: the
	// policy file is given by a wrapper, as the deploy file says.
	wrapper := filepath.Join(dir, "podsec-runtime")
	writeFile(t, wrapper, fmt.Sprintf("#!/bin/sh\nexec %s --policy %s \"$@\"\n", rt, n.policy), 0o755)
	var config string
	if cd.major == 2 {
		config = n.containerd2Config(t, cd, wrapper, baseline)
	} else {
		config = n.containerdConfig(t, wrapper, baseline)
	}
	writeFile(t, filepath.Join(dir, "config.toml"), config, 0o644)
	writeFile(t, filepath.Join(dir, "net.d", "10-podsec-critest.conflist"), fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "podsec-critest-%s",
  "plugins": [
    {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": %q,
              "ranges": [[{"subnet": "10.91.%d.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, bridge, bridge, filepath.Join(dir, "ipam"), cniSubnetOctet()), 0o644)
	// Every registry critest names is mirrored by the registry on loopback,
	// which is its upstream server too: an image the registry lacks is not
	// looked for on the network.
	for _, host := range []string{"registry.k8s.io", "k8s.gcr.io", "gcr.io"} {
		writeFile(t, filepath.Join(dir, "certs.d", host, "hosts.toml"), fmt.Sprintf(
			"server = \"http://%[1]s\"\n\n[host.\"http://%[1]s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", registryHost), 0o644)
	}

	p := start(t, dir, "containerd", cd.path, "--config", filepath.Join(dir, "config.toml"))
	// Runs before start's cleanup stops containerd.
	t.Cleanup(func() { n.removePods(t) })
	waitFor(t, "containerd's CRI", p, 60*time.Second, func(ctx context.Context) error {
		out, err := n.crictlCtx(ctx, "info")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	return n
}

// containerdConfig is deploy/containerd/config.toml with this node's
// paths: its own root, state and sockets, the wrappers as BinaryName, a
// runc root per handler, restrict_oom_score_adj on (root lacks
// CAP_SYS_RESOURCE here), the CNI network and registry mirrors above, and
// at baseline, unset_seccomp_profile on.
func (n *criNode) containerdConfig(t *testing.T, podsecBin string, baseline bool) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "containerd", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	replace := func(old, new string) {
		if !strings.Contains(s, old) {
			t.Fatalf("deploy/containerd/config.toml: no %q", old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	d := n.dir
	replace("# restrict_oom_score_adj = true", "restrict_oom_score_adj = true")
	if baseline {
		replace(`# unset_seccomp_profile = "runtime/default"`, `unset_seccomp_profile = "runtime/default"`)
	}
	replace(`BinaryName = "/usr/local/bin/podsec-runtime"`, fmt.Sprintf("BinaryName = %q", podsecBin))
	replace("[plugins.\"io.containerd.grpc.v1.cri\"]\n", fmt.Sprintf(`[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
`, sandboxImage))
	opts := regexp.MustCompile(`(?m)^(\s*)\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.([a-z-]+)\.options\]\n`)
	s = opts.ReplaceAllString(s, fmt.Sprintf("$0$1  Root = \"%s/runtime-root/$2\"\n", d))
	return fmt.Sprintf(`# Written by test/e2e from deploy/containerd/config.toml.
root = "%[1]s/root"
state = "%[1]s/state"
oom_score = 0

%[2]s
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[1]s/net.d"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "%[1]s/certs.d"

[plugins."io.containerd.internal.v1.opt"]
  path = "%[1]s/opt"

[grpc]
  address = "%[1]s/c.sock"

[ttrpc]
  address = "%[1]s/c.sock.ttrpc"
`, d, s)
}

func (n *criNode) crictlCtx(ctx context.Context, args ...string) (string, error) {
	args = append([]string{"--runtime-endpoint", n.endpoint, "--image-endpoint", n.endpoint, "--timeout", "30s"}, args...)
	out, err := exec.CommandContext(ctx, n.crictl, args...).CombinedOutput()
	return string(out), err
}

// cleanup, once containerd has stopped, ends the shims it left (found by its socket in
// their command lines, ended by PID), unmounts and removes the directory,
// deletes the bridge and the host directories that were not there before.
func (n *criNode) cleanup(t *testing.T, bridge string, hostDirs map[string]bool) {
	// containerd itself is stopped by start's cleanup, which runs first
	// (cleanups run last in, first out; this one was registered before).
	for _, pid := range pidsWithArg(n.dir) {
		if p, err := os.FindProcess(pid); err == nil {
			t.Logf("ending a process containerd left: %d", pid)
			_ = p.Kill()
		}
	}
	time.Sleep(200 * time.Millisecond)
	unmountUnder(t, n.dir)
	if err := os.RemoveAll(n.dir); err != nil {
		t.Errorf("removing %s: %v", n.dir, err)
	}
	if out, err := exec.Command("ip", "link", "del", bridge).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find device") {
		t.Errorf("deleting bridge %s: %v: %s", bridge, err, out)
	}
	for _, g := range []string{"/sys/fs/cgroup/*/test.slice", "/run/containerd/*", "/run/containerd"} {
		m, _ := filepath.Glob(g)
		for _, p := range m {
			if !hostDirs[p] {
				removeEmptyDirs(p)
			}
		}
	}
}

// removePods removes every pod through the CRI: their containers, netns
// and CNI state.
func (n *criNode) removePods(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := n.crictlCtx(ctx, "rmp", "--all", "--force"); err != nil {
		t.Errorf("crictl rmp --all --force: %v: %s", err, out)
	}
}

// snapshotShm is the System V shared memory segments by id: critest's
// HostIpc cases make one on the node with ipcmk and leave it.
func snapshotShm() map[string]bool {
	ids := map[string]bool{}
	data, _ := os.ReadFile("/proc/sysvipc/shm")
	for i, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 1 {
			ids[f[1]] = true
		}
	}
	return ids
}

// removeNewShm removes the segments made since before (by critest's ipcmk
// -M 1048576) that nothing has attached.
func removeNewShm(t *testing.T, before map[string]bool) {
	data, _ := os.ReadFile("/proc/sysvipc/shm")
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 7 || before[f[1]] || f[3] != "1048576" || f[6] != "0" {
			continue
		}
		if out, err := exec.Command("ipcrm", "-m", f[1]).CombinedOutput(); err != nil {
			t.Errorf("ipcrm -m %s: %v: %s", f[1], err, out)
		}
	}
}

// snapshotGlobs is the set of paths matching the globs now.
func snapshotGlobs(globs ...string) map[string]bool {
	seen := map[string]bool{}
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		for _, p := range m {
			seen[p] = true
		}
	}
	return seen
}

// removeEmptyDirs removes the empty directories of a tree, deepest first
// (cgroup directories are removed with rmdir too).
func removeEmptyDirs(dir string) {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i])
	}
}

// pidsWithArg are the processes with an argument containing s.
func pidsWithArg(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unmountUnder lazily unmounts every mount below dir, deepest first.
func unmountUnder(t *testing.T, dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Errorf("reading mounts: %v", err)
		return
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			mounts = append(mounts, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	for _, m := range mounts {
		if out, err := exec.Command("umount", "-l", m).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", m, err, out)
		}
	}
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}
