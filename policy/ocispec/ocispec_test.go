package ocispec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"k8s.io/pod-security-admission/api"

	"github.com/podsec/podsec/policy/pss"
	"github.com/podsec/podsec/spec"
)

// base is a spec baseline and restricted allow; each case breaks one rule.
func base() *specs.Spec {
	caps := []string{"CAP_NET_BIND_SERVICE"}
	return &specs.Spec{
		Process: &specs.Process{User: specs.User{UID: 1000}, NoNewPrivileges: true, Args: []string{"true"}, Cwd: "/",
			Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}},
		Root: &specs.Root{Path: "rootfs"},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "ro"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "ipc"}, {Type: "mount"}},
			Devices:    []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}},
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
				{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
				{Allow: true, Type: "c", Major: i64(136), Access: "rwm"}, {Allow: true, Type: "b", Access: "m"}}},
			Seccomp:       &specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
			MaskedPaths:   append([]string{"/proc/acpi"}, requiredMasked...),
			ReadonlyPaths: requiredReadonly,
			Sysctl:        map[string]string{"net.ipv4.ping_group_range": "0 0"},
		},
	}
}

func i64(n int64) *int64 { return &n }

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level Level
		edit  func(s *specs.Spec)
		opts  Options
		want  []string // messages, in order; none: allowed
	}{
		{name: "restricted spec", level: Restricted, edit: func(*specs.Spec) {}},
		{name: "privileged allows anything", level: Privileged, edit: func(s *specs.Spec) { s.Linux = nil; s.Process.Capabilities = nil }},
		{name: "sys_admin", level: Baseline, edit: func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_SYS_ADMIN")
			s.Process.Capabilities.Effective = append(s.Process.Capabilities.Effective, "sys_admin")
		}, want: []string{`process.capabilities.bounding: CAP_SYS_ADMIN is not allowed by the node policy "baseline": non-default capabilities`}},
		{name: "unset capabilities", level: Baseline, edit: func(s *specs.Spec) { s.Process.Capabilities = nil },
			want: []string{`process.capabilities: unset (every capability of the runtime) is not allowed by the node policy "baseline": non-default capabilities`}},
		{name: "host network", level: Baseline, edit: func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:1] },
			want: []string{
				`linux.namespaces: no network namespace (the host's) is not allowed by the node policy "baseline": host namespaces`,
				`linux.namespaces: no ipc namespace (the host's) is not allowed by the node policy "baseline": host namespaces`,
				`linux.namespaces: no mount namespace (the host's) is not allowed by the node policy "baseline": host namespaces`}},
		{name: "host pid by path", level: Baseline, opts: Options{HostNamespace: func(typ specs.LinuxNamespaceType, p string) bool { return p == "/proc/1/ns/pid" }},
			edit: func(s *specs.Spec) { s.Linux.Namespaces[0].Path = "/proc/1/ns/pid" },
			want: []string{`linux.namespaces[0].path: "/proc/1/ns/pid" (the host's pid namespace) is not allowed by the node policy "baseline": host namespaces`}},
		{name: "pod sandbox namespace by path", level: Baseline, opts: Options{HostNamespace: func(specs.LinuxNamespaceType, string) bool { return false }},
			edit: func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/var/run/netns/pod" }},
		{name: "host device", level: Baseline, edit: func(s *specs.Spec) {
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/kvm", Type: "c", Major: 10, Minor: 232})
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Access: "rwm"})
		}, want: []string{
			`linux.devices: /dev/kvm is not allowed by the node policy "baseline": host devices`,
			`linux.resources.devices[4]: access "a *:* rwm" is not allowed by the node policy "baseline": host devices`}},
		{name: "writable sysfs", level: Baseline, edit: func(s *specs.Spec) { s.Mounts[1].Options = []string{"nosuid", "rw"} },
			want: []string{`mounts[1]: "/sys" mounted read-write is not allowed by the node policy "baseline": writable /sys`}},
		{name: "sysfs ro undone by a later rw", level: Baseline, edit: func(s *specs.Spec) { s.Mounts[1].Options = []string{"ro", "nosuid", "rw"} },
			want: []string{`mounts[1]: "/sys" mounted read-write is not allowed by the node policy "baseline": writable /sys`}},
		{name: "sysfs ro undone by rrw", level: Baseline, edit: func(s *specs.Spec) { s.Mounts[1].Options = []string{"ro", "rrw"} },
			want: []string{`mounts[1]: "/sys" mounted read-write is not allowed by the node policy "baseline": writable /sys`}},
		{name: "sysfs rw then ro", level: Baseline, edit: func(s *specs.Spec) { s.Mounts[1].Options = []string{"rw", "ro"} }},
		{name: "host /sys bind", level: Baseline, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/host-sys", Type: "bind", Source: "/sys/kernel", Options: []string{"rbind"}})
		}, want: []string{
			`mounts[2].source: "/sys/kernel" at "/host-sys" is not allowed by the node policy "baseline": hostPath volumes (bind sources outside the bundle and allowedBindSources)`,
			`mounts[2]: "/host-sys" mounted read-write is not allowed by the node policy "baseline": writable /sys`}},
		{name: "unmasked proc", level: Baseline, edit: func(s *specs.Spec) { s.Linux.MaskedPaths = nil; s.Linux.ReadonlyPaths = s.Linux.ReadonlyPaths[1:] },
			want: []string{
				`linux.maskedPaths: unmasked /proc/kcore, /proc/keys, /proc/sched_debug, /proc/timer_list, /sys/firmware are not allowed by the node policy "baseline": procMount`,
				`linux.readonlyPaths: writable /proc/bus is not allowed by the node policy "baseline": procMount`}},
		{name: "no seccomp", level: Baseline, edit: func(s *specs.Spec) { s.Linux.Seccomp = nil },
			want: []string{`linux.seccomp: unset (unconfined) is not allowed by the node policy "baseline": seccompProfile`}},
		{name: "allow-all seccomp", level: Baseline, edit: func(s *specs.Spec) { s.Linux.Seccomp.DefaultAction = specs.ActAllow },
			want: []string{`linux.seccomp.defaultAction: SCMP_ACT_ALLOW with no syscall rules (unconfined) is not allowed by the node policy "baseline": seccompProfile weaker than RuntimeDefault`}},
		{name: "selinux spc_t", level: Baseline, edit: func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:spc_t:s0" },
			want: []string{`process.selinuxLabel: SELinux label "system_u:system_r:spc_t:s0" is not allowed by the node policy "baseline": seLinuxOptions`}},
		{name: "selinux container_t", level: Baseline, edit: func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2" }},
		{name: "apparmor unconfined", level: Baseline, edit: func(s *specs.Spec) { s.Process.ApparmorProfile = "unconfined" },
			want: []string{`process.apparmorProfile: "unconfined" is not allowed by the node policy "baseline": appArmorProfile`}},
		{name: "apparmor unset on an apparmor host", level: Baseline, opts: Options{AppArmor: true}, edit: func(*specs.Spec) {},
			want: []string{`process.apparmorProfile: unset (unconfined on this AppArmor host) is not allowed by the node policy "baseline": appArmorProfile`}},
		{name: "sysctls", level: Baseline, edit: func(s *specs.Spec) {
			s.Linux.Sysctl["kernel.msgmax"] = "1"
			s.Linux.Sysctl["net/ipv4/ip_forward"] = "1"
		},
			want: []string{`linux.sysctl: kernel.msgmax, net/ipv4/ip_forward are not allowed by the node policy "baseline": forbidden sysctls`}},
		{name: "safe sysctl with slashes", level: Baseline, edit: func(s *specs.Spec) { s.Linux.Sysctl["net/ipv4/tcp_syncookies"] = "1" }},
		{name: "root at baseline", level: Baseline, edit: func(s *specs.Spec) { s.Process.User.UID = 0; s.Process.NoNewPrivileges = false }},
		{name: "root at restricted", level: Restricted, edit: func(s *specs.Spec) { s.Process.User.UID = 0; s.Process.NoNewPrivileges = false },
			want: []string{
				`process.noNewPrivileges: false is not allowed by the node policy "restricted": allowPrivilegeEscalation != false`,
				`process.user.uid: 0 (root) is not allowed by the node policy "restricted": runAsNonRoot != true`}},
		{name: "default caps at restricted", level: Restricted, edit: func(s *specs.Spec) { s.Process.Capabilities.Bounding = []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"} },
			want: []string{`process.capabilities.bounding: CAP_CHOWN is not allowed by the node policy "restricted": unrestricted capabilities`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(s)
			err := Policy{Level: tc.level}.Check(s, tc.opts)
			var got []string
			var re *RefusedError
			if errors.As(err, &re) {
				for _, v := range re.Violations {
					got = append(got, v.Message(tc.level))
				}
				if !errors.Is(err, ErrRefused) {
					t.Errorf("errors.Is(%v, ErrRefused) = false", err)
				}
			} else if err != nil {
				t.Fatalf("Check = %v, want a *RefusedError or nil", err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Check(%s) =\n%s\nwant\n%s", tc.level, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCheckProcess(t *testing.T) {
	p := base().Process
	p.Capabilities.Bounding = append(p.Capabilities.Bounding, "CAP_SYS_PTRACE")
	err := Policy{Level: Baseline}.CheckProcess(p, Options{})
	if err == nil || err.Error() != `process.capabilities.bounding: CAP_SYS_PTRACE is not allowed by the node policy "baseline": non-default capabilities` {
		t.Errorf("CheckProcess = %v", err)
	}
}

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "level: baseline\n", want: "baseline"},
		{in: `{"level":"restricted"}`, want: "restricted"},
		{in: "level: lenient\n", err: `level: Unsupported value: "lenient"`},
		{in: "level: baseline\nexempt: true\n", err: "unknown field"},
		{in: "\n", err: "empty policy"},
	} {
		p, err := ParsePolicy([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePolicy(%q) = %v, want an error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || string(p.Level) != tc.want {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %s", tc.in, p, err, tc.want)
		}
	}
}

// knownDifferences are the seed pods whose verdict at a level differs
// between pod-security-admission (on the pod) and this package (on the
// spec podsec makes of it), and why.
var knownDifferences = map[string]string{
	"user-namespace-procmount baseline": "procMount Unmasked with hostUsers false: the node policy keeps the masks in a user " +
		"namespace too (a spec's user namespace may map the node's root, and /proc/keys, /sys/firmware are the node's)",
	"kubia-hostport baseline":   "hostPorts are the network's (CNI portmap), not in the spec",
	"kubia-hostport restricted": "hostPorts are the network's (CNI portmap), not in the spec",
	"capabilities-drop-all-add baseline": "pod-security-admission compares capability names as written " +
		"(CAP_KILL, cap_chown are not KILL, CHOWN); the spec holds default capabilities only",
	"no-new-privileges restricted": "restricted wants the pod to declare runAsNonRoot; the spec shows the uid it runs as, not root",
}

// notPods are golden specs whose manifest holds more than a pod.
var notPods = map[string]bool{"configmap-secret-downwardapi": true}

// TestSeedPodsAgree holds podsec's golden specs (testdata/specs, made from
// testdata/pods) to each level and expects pod-security-admission's
// verdict on the pod they come from, but for knownDifferences.
func TestSeedPodsAgree(t *testing.T) {
	ev, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	goldens, err := filepath.Glob("../../testdata/specs/*.json")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden specs in testdata/specs: %v", err)
	}
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".json")
		if notPods[name] {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("../../testdata/pods", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pods, err := spec.DecodePods(f)
			if err != nil || len(pods) != 1 {
				t.Fatalf("DecodePods(%s) = %d pods, %v", name, len(pods), err)
			}
			var out []struct {
				Spec *specs.Spec `json:"spec"`
			}
			data, err := os.ReadFile(g)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &out); err != nil {
				t.Fatal(err)
			}
			for _, level := range []Level{Baseline, Restricted} {
				psa := ev.Check(api.LevelVersion{Level: api.Level(level), Version: api.LatestVersion()}, pods[0])
				var refusals []string
				for _, c := range out {
					if err := (Policy{Level: level}).Check(c.Spec, Options{}); err != nil {
						refusals = append(refusals, err.Error())
					}
				}
				ours := len(refusals) == 0
				if ours != psa.Allowed {
					if why, ok := knownDifferences[name+" "+string(level)]; ok {
						t.Logf("%s at %s: pod-security-admission allowed=%v, spec allowed=%v: known: %s", name, level, psa.Allowed, ours, why)
						continue
					}
					t.Errorf("%s at %s: pod-security-admission allowed=%v (%s), spec check allowed=%v (%s)",
						name, level, psa.Allowed, psa.ForbiddenDetail(), ours, strings.Join(refusals, " | "))
				}
			}
		})
	}
}
