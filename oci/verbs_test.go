package oci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestNoID runs every verb that needs a container ID without one: each
// fails with a message naming what is missing, and no panic.
func TestNoID(t *testing.T) {
	e := newEnv(t)
	for _, verb := range []string{"create", "start", "state", "kill", "delete", "run", "exec", "ps", "pause", "resume", "update", "events"} {
		t.Run(verb, func(t *testing.T) {
			_, errs, code := e.run(verb)
			if code == 0 || !strings.Contains(errs, `"`+verb+`" requires`) || !strings.Contains(errs, "container ID") {
				t.Errorf("podsec-runtime %s: exit %d, stderr %q; want an error asking for the container ID", verb, code, errs)
			}
		})
	}
	if _, errs, code := e.run("state", "bad/id"); code == 0 || !strings.Contains(errs, "invalid container ID format") {
		t.Errorf("state bad/id: exit %d, %q; want an invalid id", code, errs)
	}
}

// TestPsPauseUpdateEvents covers the verbs of a running container.
func TestPsPauseUpdateEvents(t *testing.T) {
	e := newEnv(t)
	b := bundle(t, podSleep, "verbs", nil)
	e.must("run", "-d", "--bundle", b, "v")
	s := e.state("v")

	var pids []int
	// The cgroup's order, as runc gives it: by PID, so the shell's
	// children come first once PIDs wrap around.
	if err := json.Unmarshal([]byte(e.must("ps", "--format", "json", "v")), &pids); err != nil || !slices.Contains(pids, s.Pid) {
		t.Errorf("ps --format json v = %v, %v; want the init pid %d among them", pids, err, s.Pid)
	}
	if out := e.must("ps", "v"); !strings.Contains(out, "PID") || !strings.Contains(out, "while true") {
		t.Errorf("ps v = %q, want a table with the container's shell", out)
	}

	e.must("pause", "v")
	if st := e.state("v").Status; st != "paused" {
		t.Errorf("status after pause = %s, want paused", st)
	}
	if _, errs, code := e.run("exec", "v", "true"); code == 0 || !strings.Contains(errs, "paused") {
		t.Errorf("exec in a paused container: exit %d, %q; want refused", code, errs)
	}
	e.must("resume", "v")
	if st := e.state("v").Status; st != "running" {
		t.Errorf("status after resume = %s, want running", st)
	}

	// The limits are read back from the cgroup, by the container itself.
	e.must("update", "--pids-limit", "123", "--memory", "96m", "v")
	out := e.must("exec", "v", "cat", "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	if out != "123\n100663296\n" {
		t.Errorf("limits after update = %q, want 123 and 96m", out)
	}
	res := filepath.Join(t.TempDir(), "res.json")
	mkfile(t, res, `{"pids":{"limit":77}}`)
	e.must("update", "--resources", res, "v")
	_, _, _ = e.runIn("", []byte(`{"cpu":{"shares":512}}`), "update", "-r", "-", "v")
	out = e.must("exec", "v", "cat", "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/cpu/cpu.shares")
	if out != "77\n512\n" {
		t.Errorf("limits after update --resources = %q, want 77 and 512", out)
	}

	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			Pids struct {
				Current uint64 `json:"current"`
				Limit   uint64 `json:"limit"`
			} `json:"pids"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(e.must("events", "--stats", "v")), &ev); err != nil || ev.Type != "stats" || ev.ID != "v" || ev.Data.Pids.Current == 0 || ev.Data.Pids.Limit != 77 {
		t.Errorf("events --stats v = %+v, %v; want stats with pids", ev, err)
	}
	e.must("delete", "--force", "v")
}

// TestExecProcessAndTerminal runs exec --process and a detached exec
// with --pid-file, and checks that a terminal needs a console socket.
func TestExecProcessAndTerminal(t *testing.T) {
	e := newEnv(t)
	b := bundle(t, podSleep, "exec", nil)
	e.must("run", "-d", "--bundle", b, "x")
	tmp := t.TempDir()
	proc := specs.Process{Args: []string{"sh", "-c", "echo $FOO; pwd; id -u"}, Cwd: "/tmp", Env: []string{"FOO=bar", "PATH=/bin"},
		User: specs.User{UID: 405, GID: 100}}
	data, _ := json.Marshal(proc)
	pf := filepath.Join(tmp, "process.json")
	mkfile(t, pf, string(data))
	if out := e.must("exec", "--process", pf, "x"); out != "bar\n/tmp\n405\n" {
		t.Errorf("exec --process = %q, want bar, /tmp, 405", out)
	}
	if out := e.must("exec", "--cwd", "/bin", "--env", "A=1", "--user", "7:8", "x", "sh", "-c", "echo $A $(pwd) $(id -u):$(id -g)"); out != "1 /bin 7:8\n" {
		t.Errorf("exec --cwd --env --user = %q, want 1 /bin 7:8", out)
	}
	pid := filepath.Join(tmp, "exec.pid")
	e.must("exec", "--detach", "--pid-file", pid, "x", "sleep", "30")
	if b, err := os.ReadFile(pid); err != nil || len(b) == 0 {
		t.Errorf("exec --detach --pid-file: %q, %v", b, err)
	}
	if _, errs, code := e.run("exec", "--tty", "--detach", "x", "true"); code != 255 || !strings.Contains(errs, "console-socket") {
		t.Errorf("exec --tty --detach without a console socket: exit %d, %q", code, errs)
	}
	e.must("delete", "--force", "x")
}

// TestGlobalFlags: --systemd-cgroup is refused with the reason, errors go
// to --log as JSON lines (what containerd's shim parses) and to stderr,
// and features prints the runtime spec's features document.
func TestGlobalFlags(t *testing.T) {
	e := newEnv(t)
	_, errs, code := e.run("--systemd-cgroup", "state", "x")
	if code == 0 || !strings.Contains(errs, "--systemd-cgroup is not supported") || !strings.Contains(errs, "cgroupfs") {
		t.Errorf("--systemd-cgroup: exit %d, %q; want refused naming cgroupfs", code, errs)
	}
	log := filepath.Join(t.TempDir(), "log.json")
	_, errs, code = e.run("--log", log, "--log-format", "json", "state", "nosuch")
	if code == 0 || !strings.Contains(errs, "does not exist") {
		t.Errorf("state nosuch: exit %d, %q", code, errs)
	}
	var line struct{ Level, Msg, Time string }
	data, _ := os.ReadFile(log)
	if err := json.Unmarshal(data, &line); err != nil || line.Level != "error" || !strings.Contains(line.Msg, "does not exist") || line.Time == "" {
		t.Errorf("--log json = %q (%v), want {level: error, msg: ..., time: ...}", data, err)
	}
	if _, errs, code := e.run("--log-format", "xml", "list"); code == 0 || !strings.Contains(errs, "--log-format") {
		t.Errorf("--log-format xml: exit %d, %q", code, errs)
	}
	var f struct {
		OCIVersionMax string            `json:"ociVersionMax"`
		Hooks         []string          `json:"hooks"`
		Annotations   map[string]string `json:"annotations"`
		Linux         struct {
			Cgroup  struct{ Systemd bool } `json:"cgroup"`
			Seccomp struct{ Enabled bool } `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(e.must("features")), &f); err != nil || f.OCIVersionMax != specs.Version ||
		len(f.Hooks) != 6 || f.Linux.Cgroup.Systemd || !f.Linux.Seccomp.Enabled || f.Annotations[AnnotationPolicy] == "" {
		t.Errorf("features = %+v, %v", f, err)
	}
	if out, _, code := e.run("--version"); code != 0 || !strings.Contains(out, "podsec-runtime version") || !strings.Contains(out, "spec: "+specs.Version) {
		t.Errorf("--version = %q, exit %d", out, code)
	}
}

// TestPolicy holds bundles to a baseline node policy: a pod that
// baseline admits runs, a privileged one is refused with the fields and
// rules, and an exec that asks for more capabilities is refused too.
func TestPolicy(t *testing.T) {
	requireRoot(t)
	ok := bundle(t, podSleep, "policy-ok", nil)
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	// The bundle's volumes, /etc/hosts and /dev/shm are in its podsec
	// root, as a node's are in /var/lib/podsec.
	mkfile(t, pol, "level: baseline\nallowedBindSources: ["+filepath.Join(filepath.Dir(filepath.Dir(ok)), "podsec")+"]\n")
	e := newEnv(t, "--policy", pol)

	e.must("run", "-d", "--bundle", ok, "ok")
	_, errs, code := e.run("exec", "--cap", "CAP_SYS_ADMIN", "ok", "true")
	if code != 255 || !strings.Contains(errs, `process.capabilities.bounding: CAP_SYS_ADMIN is not allowed by the node policy "baseline": non-default capabilities`) {
		t.Errorf("exec --cap CAP_SYS_ADMIN: exit %d, %q; want refused", code, errs)
	}
	e.must("delete", "--force", "ok")

	priv := bundle(t, podPrivileged, "policy-priv", nil)
	_, errs, code = e.run("run", "--bundle", priv, "priv")
	for _, want := range []string{
		"podsec-runtime run failed: process.capabilities.bounding: ",
		`CAP_SYS_ADMIN, `,
		`are not allowed by the node policy "baseline": non-default capabilities`,
		`linux.resources.devices[0]: access "a *:* rwm" is not allowed by the node policy "baseline": host devices`,
		`linux.maskedPaths: unmasked /proc/kcore`,
		"(node policy in " + pol + ")",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("run of a privileged bundle: stderr %q, want %q", errs, want)
		}
	}
	if code == 0 {
		t.Errorf("run of a privileged bundle under baseline: exit 0, want refused")
	}
	if out := e.must("list", "-q"); out != "" {
		t.Errorf("a refused container left state: %q", out)
	}
	// The same bundle under no policy runs, with every capability.
	e2 := newEnv(t, "--policy", writePolicy(t, "privileged"))
	out, _, code := e2.run("run", "--bundle", priv, "priv")
	if code != 0 || !strings.Contains(out, "CapEff:\t000001ffffffffff") && !strings.Contains(out, "CapEff:\t000001fffeffffff") {
		t.Errorf("privileged bundle under the privileged level: exit %d, %q; want every capability", code, out)
	}
	// A broken policy file fails closed.
	e3 := newEnv(t, "--policy", writePolicy(t, "lenient"))
	if _, errs, code := e3.run("run", "--bundle", ok, "x"); code == 0 || !strings.Contains(errs, `level: Unsupported value: "lenient"`) {
		t.Errorf("run under an invalid policy: exit %d, %q; want refused", code, errs)
	}
}

func writePolicy(t *testing.T, level string) string {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	mkfile(t, p, "level: "+level+"\n")
	return p
}
