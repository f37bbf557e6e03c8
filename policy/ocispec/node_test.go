package ocispec

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/seccomp"
)

// messages are the violations of Check as the user reads them.
func messages(t *testing.T, p Policy, s *specs.Spec, opts Options) []string {
	t.Helper()
	err := p.Check(s, opts)
	if err == nil {
		return nil
	}
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("Check = %v, want a *RefusedError or nil", err)
	}
	var out []string
	for _, v := range re.Violations {
		out = append(out, v.Message(p.Level))
	}
	return out
}

// fakeFS resolves symlinks from a table, as the runtime's side would.
func fakeFS(links map[string]string) func(string) (string, error) {
	return func(p string) (string, error) {
		for from, to := range links {
			if p == from || strings.HasPrefix(p, from+"/") {
				return to + strings.TrimPrefix(p, from), nil
			}
		}
		return p, nil
	}
}

// TestCheckNode holds specs with fields that reach the node, beyond the
// Pod Security Standards' own, to each level.
func TestCheckNode(t *testing.T) {
	bundle := Options{BundleDir: "/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1"}
	bind := func(src, dst string) specs.Mount {
		return specs.Mount{Source: src, Destination: dst, Type: "bind", Options: []string{"rbind", "rw"}}
	}
	for _, tc := range []struct {
		name   string
		level  Level
		policy Policy
		opts   Options
		edit   func(s *specs.Spec)
		want   []string // substrings of the messages, in order; none: allowed
	}{
		{name: "createRuntime hook at restricted", level: Restricted, edit: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh"}}}
		}, want: []string{`hooks.createRuntime[0]: "/bin/sh" is not allowed by the node policy "restricted": hooks run on the node`}},
		{name: "every kind of hook", level: Baseline, edit: func(s *specs.Spec) {
			h := []specs.Hook{{Path: "/x"}}
			s.Hooks = &specs.Hooks{Prestart: h, CreateRuntime: h, CreateContainer: h, StartContainer: h, Poststart: h, Poststop: h} //nolint:staticcheck
		}, want: []string{"hooks.prestart[0]", "hooks.createRuntime[0]", "hooks.createContainer[0]", "hooks.startContainer[0]", "hooks.poststart[0]", "hooks.poststop[0]"}},
		{name: "hooks at privileged", level: Privileged, edit: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh"}}}
		}},
		{name: "second proc", level: Baseline, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/p", Type: "proc", Source: "proc"})
		}, want: []string{`mounts[2]: proc at "/p" is not allowed by the node policy "baseline": kernel filesystems only at their usual place (proc at /proc)`}},
		{name: "sysfs elsewhere", level: Baseline, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/s", Type: "sysfs", Source: "sysfs", Options: []string{"ro"}})
		}, want: []string{`mounts[2]: sysfs at "/s" is not allowed by the node policy "baseline": kernel filesystems only at their usual place (sysfs at /sys)`}},
		{name: "usual kernel filesystems", level: Restricted, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro"}},
				specs.Mount{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue"},
				specs.Mount{Destination: "/dev/pts/", Type: "devpts", Source: "devpts"},
				specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm"})
		}},
		{name: "node filesystems", level: Baseline, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/sys/kernel/debug", Type: "debugfs", Source: "debugfs", Options: []string{"ro"}},
				specs.Mount{Destination: "/b", Type: "bpf", Source: "bpf"},
				specs.Mount{Destination: "/disk", Type: "ext4", Source: "/dev/sda1"},
				specs.Mount{Destination: "/proc/sys", Type: "tmpfs", Source: "tmpfs"})
		}, want: []string{
			`mounts[2]: debugfs at "/sys/kernel/debug" is not allowed by the node policy "baseline": a filesystem of the node`,
			`mounts[3]: bpf at "/b" is not allowed by the node policy "baseline": a filesystem of the node`,
			`mounts[4]: ext4 at "/disk" is not allowed by the node policy "baseline": mount types without a pod equivalent`,
			`mounts[5]: tmpfs at "/proc/sys" is not allowed by the node policy "baseline": mounts over /proc`}},
		{name: "node's / bound read-write", level: Baseline, edit: func(s *specs.Spec) { s.Mounts = append(s.Mounts, bind("/", "/host")) },
			want: []string{`mounts[2].source: "/" at "/host" is not allowed by the node policy "baseline": hostPath volumes`}},
		{name: "bind option on any type", level: Baseline, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Source: "/etc", Destination: "/e", Type: "tmpfs", Options: []string{"bind"}})
		}, want: []string{`mounts[2].source: "/etc" at "/e"`}},
		{name: "engine state binds", level: Restricted, opts: bundle, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts,
				bind("/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/x/hosts", "/etc/hosts"),
				bind("/run/containers/storage/overlay-containers/x/userdata/resolv.conf", "/etc/resolv.conf"),
				bind("/var/lib/kubelet/pods/uid/volumes/kubernetes.io~empty-dir/cache", "/cache"),
				bind("hostname", "/etc/hostname")) // relative: in the bundle
		}},
		{name: "prefix on components and dot-dot", level: Baseline, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, bind("/var/lib/containerd-evil/x", "/a"), bind("/var/lib/containerd/../../../etc", "/b"))
		}, want: []string{`mounts[2].source: "/var/lib/containerd-evil/x" at "/a"`, `mounts[3].source: "/var/lib/containerd/../../../etc" at "/b"`}},
		{name: "symlink to / under an allowed directory", level: Baseline,
			opts: Options{RealPath: fakeFS(map[string]string{"/var/lib/podsec/link": "/"})},
			edit: func(s *specs.Spec) { s.Mounts = append(s.Mounts, bind("/var/lib/podsec/link", "/host")) },
			want: []string{`mounts[2].source: "/var/lib/podsec/link" (resolves to "/") at "/host" is not allowed`}},
		{name: "symlink then dot-dot resolved as written", level: Baseline,
			opts: Options{RealPath: fakeFS(map[string]string{"/var/lib/podsec/link": "/etc/ssl"})},
			edit: func(s *specs.Spec) { s.Mounts = append(s.Mounts, bind("/var/lib/podsec/link/..", "/host")) },
			want: []string{`mounts[2].source: "/var/lib/podsec/link/.." (resolves to "/etc") at "/host" is not allowed`}},
		{name: "source that cannot be resolved", level: Baseline,
			opts: Options{RealPath: func(string) (string, error) { return "", errors.New("magic link") }},
			edit: func(s *specs.Spec) { s.Mounts = append(s.Mounts, bind("/var/lib/podsec/x", "/host")) },
			want: []string{`mounts[2].source: "/var/lib/podsec/x" (cannot be resolved) at "/host" is not allowed`}},
		{name: "configured bind sources replace the defaults", level: Baseline, policy: Policy{AllowedBindSources: []string{"/srv/volumes"}},
			edit: func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, bind("/srv/volumes/a", "/a"), bind("/var/lib/containerd/x", "/b"))
			},
			want: []string{`mounts[3].source: "/var/lib/containerd/x" at "/b"`}},
		{name: "rshared propagation", level: Baseline, edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Source: "/var/lib/podsec/v", Destination: "/v", Type: "bind", Options: []string{"rbind", "rshared"}})
			s.Linux.RootfsPropagation = "shared"
		}, want: []string{`mounts[2].options: "rshared" on "/v"`, `linux.rootfsPropagation: "shared"`}},
		{name: "root at the node's /", level: Restricted, edit: func(s *specs.Spec) { s.Root.Path = "/" },
			want: []string{`root.path: "/" is not allowed by the node policy "restricted": root filesystems outside the bundle and allowedRootPrefixes`}},
		{name: "root elsewhere on the node", level: Baseline, opts: bundle, edit: func(s *specs.Spec) { s.Root.Path = "/etc" },
			want: []string{`root.path: "/etc" is not allowed`}},
		{name: "root escaping the bundle", level: Baseline, opts: bundle, edit: func(s *specs.Spec) { s.Root.Path = "../../../../../.." },
			want: []string{`root.path: "../../../../../.." is not allowed`}},
		{name: "root in the bundle and in storage", level: Restricted, opts: bundle, edit: func(s *specs.Spec) { s.Root.Path = "rootfs" }},
		{name: "root in podman's storage", level: Restricted, opts: bundle, edit: func(s *specs.Spec) { s.Root.Path = "/var/lib/containers/storage/overlay/x/merged" }},
		{name: "root symlinked to /", level: Baseline, opts: Options{BundleDir: "/b", RealPath: fakeFS(map[string]string{"/b/rootfs": "/"})},
			edit: func(s *specs.Spec) { s.Root.Path = "rootfs" }, want: []string{`root.path: "rootfs" (resolves to "/") is not allowed`}},
		{name: "bundle at / grants nothing", level: Baseline, opts: Options{BundleDir: "/"},
			edit: func(s *specs.Spec) { s.Root.Path = "etc" }, want: []string{`root.path: "etc" is not allowed`}},
		{name: "identity user namespace without masks", level: Baseline, edit: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 65536}, {ContainerID: 65536, HostID: 4294967295, Size: 2}}
			s.Linux.MaskedPaths = nil
		}, want: []string{
			`linux.maskedPaths: unmasked /proc/kcore`,
			`linux.uidMappings[0]: container ID 0 -> host ID 0 (size 4294967295), covering host ID 0`,
			`linux.gidMappings[1]: container ID 65536 -> host ID 4294967295 (size 2), covering host ID 0`}},
		{name: "mapped user namespace", level: Restricted, edit: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
		}},
		{name: "idmapped mounts onto the node's root", level: Baseline, edit: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
			s.Mounts = append(s.Mounts,
				specs.Mount{Source: "/var/lib/podsec/a", Destination: "/a", Type: "bind", Options: []string{"bind", "idmap"},
					UIDMappings: []specs.LinuxIDMapping{{ContainerID: 1000, HostID: 0, Size: 1}},
					GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}},
				specs.Mount{Source: "/var/lib/podsec/b", Destination: "/b", Type: "bind", Options: []string{"rbind", "ridmap"},
					UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}},
					GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 4294967295 - 10, Size: 20}}})
		}, want: []string{
			`mounts[2].uidMappings[0]: container ID 1000 -> host ID 0 (size 1), covering host ID 0 is not allowed by the node policy "baseline": ID mappings onto the node's root`,
			`mounts[3].gidMappings[0]: container ID 0 -> host ID 4294967285 (size 20), covering host ID 0`}},
		{name: "idmapped mounts making a non-root user on-disk root", level: Baseline, edit: func(s *specs.Spec) {
			// No user namespace: uid 1000 of the node owns on-disk 0.
			s.Mounts = append(s.Mounts,
				specs.Mount{Source: "/var/lib/podsec/a", Destination: "/a", Type: "bind", Options: []string{"bind", "idmap"},
					UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
					GIDMappings: []specs.LinuxIDMapping{{ContainerID: 4294967295, HostID: 2000, Size: 2}}})
		}, want: []string{
			`mounts[2].uidMappings[0]: container ID 0 -> host ID 1000 (size 1), giving on-disk ID 0 to host ID 1000, not the container's root is not allowed by the node policy "baseline": idmapped mounts making another user the node's root on disk`,
			`mounts[2].gidMappings[0]: container ID 4294967295 -> host ID 2000 (size 2), giving on-disk ID 0 to host ID 2001, not the container's root`}},
		{name: "idmapped mounts making a user of the pod on-disk root", level: Baseline, edit: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
			s.Mounts = append(s.Mounts,
				specs.Mount{Source: "/var/lib/podsec/a", Destination: "/a", Type: "bind", Options: []string{"bind", "idmap"},
					UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1<<20 + 1000, Size: 1}, {ContainerID: 1, HostID: 1<<20 + 1, Size: 999}},
					GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}})
		}, want: []string{
			`mounts[2].uidMappings[0]: container ID 0 -> host ID 1049576 (size 1), giving on-disk ID 0 to host ID 1049576, not the container's root`}},
		{name: "idmapped mounts of the pod's range", level: Restricted, edit: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}
			s.Mounts = append(s.Mounts,
				specs.Mount{Source: "/var/lib/podsec/a", Destination: "/a", Type: "bind", Options: []string{"bind", "idmap"}},
				specs.Mount{Source: "/var/lib/podsec/b", Destination: "/b", Type: "bind", Options: []string{"rbind", "ridmap"},
					UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}},
					GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 20, Size: 65536}}})
		}},
		{name: "host namespaces of every type", level: Baseline,
			opts: Options{HostNamespace: func(_ specs.LinuxNamespaceType, p string) bool { return strings.HasPrefix(p, "/proc/1/") }},
			edit: func(s *specs.Spec) {
				s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "ipc"},
					{Type: "mount", Path: "/run/other-mnt"}, {Type: "uts", Path: "/proc/1/ns/uts"},
					{Type: "cgroup", Path: "/proc/1/ns/cgroup"}, {Type: "time", Path: "/proc/1/ns/time"}}
			}, want: []string{
				`linux.namespaces[4].path: "/proc/1/ns/uts" (the host's uts namespace)`,
				`linux.namespaces[3].path: "/run/other-mnt" (an existing mount namespace)`,
				`linux.namespaces[5].path: "/proc/1/ns/cgroup" (the host's cgroup namespace)`,
				`linux.namespaces[6].path: "/proc/1/ns/time" (the host's time namespace)`}},
		{name: "no mount namespace", level: Baseline, edit: func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:3] },
			want: []string{`linux.namespaces: no mount namespace (the host's)`}},
		{name: "net devices, tun rule", level: Baseline, edit: func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth0": {}}
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"})
		}, want: []string{`linux.netDevices: eth0 is not allowed by the node policy "baseline": host devices`}},
		{name: "disk device rule", level: Baseline, edit: func(s *specs.Spec) {
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "b", Major: i64(8), Access: "rw"})
		}, want: []string{`linux.resources.devices[4]: access "b 8:* rw"`}},
		{name: "scheduling above the node", level: Baseline, edit: func(s *specs.Spec) {
			s.Process.OOMScoreAdj = intp(-999)
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 99}
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT}
		}, want: []string{`process.oomScoreAdj: -999`, `process.scheduler.policy: "SCHED_FIFO"`, `process.ioPriority.class: "IOPRIO_CLASS_RT"`}},
		{name: "kubelet's scheduling", level: Restricted, edit: func(s *specs.Spec) {
			s.Process.OOMScoreAdj = intp(-997)
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Nice: 5}
		}},
		{name: "rlimits", level: Baseline, edit: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024},
				{Type: "RLIMIT_BOGUS", Soft: 1, Hard: 1}, {Type: "RLIMIT_CORE", Soft: 2, Hard: 1}, {Type: "RLIMIT_RTPRIO", Hard: 99}}
		}, want: []string{`process.rlimits[1].type: "RLIMIT_BOGUS"`, `process.rlimits[2]: RLIMIT_CORE soft 2 above hard 1`, `process.rlimits[3]: RLIMIT_RTPRIO hard 99`}},
		{name: "personality, intelRdt, root cgroup", level: Baseline, edit: func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: "SVR4"}
			s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "shared"}
			s.Linux.CgroupsPath = "/../"
		}, want: []string{`linux.cgroupsPath: "/../" (the root cgroup)`, `linux.personality.domain: SVR4`, `linux.intelRdt: closID shared`}},
		{name: "linux32 personality", level: Restricted, edit: func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(s)
			p := tc.policy
			p.Level = tc.level
			got := messages(t, p, s, tc.opts)
			if len(got) != len(tc.want) {
				t.Fatalf("Check(%s) =\n%s\nwant %d violations:\n%s", tc.level, strings.Join(got, "\n"), len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("Check(%s)[%d] = %s, want %q in it", tc.level, i, got[i], tc.want[i])
				}
			}
		})
	}
}

func intp(n int) *int { return &n }

// TestSeccompCompared holds profiles to RuntimeDefault: compared rule by
// rule, not counted.
func TestSeccompCompared(t *testing.T) {
	caps := []string{"CAP_NET_BIND_SERVICE"}
	rd := seccomp.RuntimeDefault(caps)
	var condRule specs.LinuxSyscall // a rule of RuntimeDefault's with conditions (clone, personality)
	for _, r := range rd.Syscalls {
		if r.Action == specs.ActAllow && len(r.Args) > 0 {
			condRule = r
			break
		}
	}
	if condRule.Names == nil {
		t.Fatal("RuntimeDefault has no rule with argument conditions to compare with")
	}
	allow := func(args []specs.LinuxSeccompArg, names ...string) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: names, Action: specs.ActAllow, Args: args}
	}
	for _, tc := range []struct {
		name string
		p    *specs.LinuxSeccomp
		want []string
	}{
		{name: "RuntimeDefault itself", p: rd},
		{name: "allow-all with one errno rule", p: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"acct"}, Action: specs.ActErrno}}},
			want: []string{`linux.seccomp.defaultAction: SCMP_ACT_ALLOW (lets every syscall it does not name run)`}},
		{name: "notify, log default", p: &specs.LinuxSeccomp{DefaultAction: specs.ActNotify},
			want: []string{`linux.seccomp.defaultAction: SCMP_ACT_NOTIFY`}},
		{name: "errno default allowing more", p: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{allow(nil, "read", "write", "keyctl", "bpf"), {Names: []string{"mount"}, Action: specs.ActLog}}},
			want: []string{`linux.seccomp.syscalls[0]: SCMP_ACT_ALLOW bpf, keyctl are not allowed`, `linux.seccomp.syscalls[1]: SCMP_ACT_LOG mount is not allowed`}},
		{name: "conditions dropped", p: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{allow(nil, condRule.Names[0])}},
			want: []string{`linux.seccomp.syscalls[0]: SCMP_ACT_ALLOW ` + condRule.Names[0]}},
		{name: "same conditions and more", p: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{allow(append(append([]specs.LinuxSeccompArg{}, condRule.Args...),
				specs.LinuxSeccompArg{Index: 5, Value: 1, Op: specs.OpEqualTo}), condRule.Names[0])}}},
		{name: "spec allow flag", p: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow}},
			want: []string{`linux.seccomp.flags: SECCOMP_FILTER_FLAG_SPEC_ALLOW`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			s.Linux.Seccomp = tc.p
			got := messages(t, Policy{Level: Baseline}, s, Options{})
			if len(got) != len(tc.want) {
				t.Fatalf("Check =\n%s\nwant %d violations:\n%s", strings.Join(got, "\n"), len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("Check[%d] = %s, want %q in it", i, got[i], tc.want[i])
				}
			}
		})
	}
	// An administrator may accept named syscalls beyond RuntimeDefault.
	s0 := base()
	s0.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{allow(nil, "io_uring_setup", "keyctl")}}
	if got := messages(t, Policy{Level: Baseline, AllowedSyscalls: []string{"io_uring_setup"}}, s0, Options{}); len(got) != 1 || !strings.Contains(got[0], "SCMP_ACT_ALLOW keyctl is not allowed") {
		t.Errorf("allowedSyscalls [io_uring_setup]: %v, want keyctl alone refused", got)
	}
	// A capability RuntimeDefault rewards is compared with the profile
	// for those capabilities.
	s := base()
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{allow(nil, "reboot")}}
	if got := messages(t, Policy{Level: Baseline}, s, Options{}); len(got) != 1 {
		t.Errorf("reboot without CAP_SYS_BOOT: %v, want refused", got)
	}
	s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_SYS_BOOT")
	if got := messages(t, Policy{Level: Privileged}, s, Options{}); len(got) != 0 {
		t.Errorf("reboot with CAP_SYS_BOOT at privileged: %v", got)
	}
	if got := messages(t, Policy{Level: Baseline}, s, Options{}); len(got) != 1 || !strings.Contains(got[0], "CAP_SYS_BOOT") {
		t.Errorf("reboot with CAP_SYS_BOOT at baseline: %v, want only the capability refused", got)
	}
}

func TestParsePolicyPrefixes(t *testing.T) {
	p, err := ParsePolicy([]byte("level: baseline\nallowedBindSources: [/srv/v/, /var/lib/x/../y]\nallowedRootPrefixes: []\n"))
	if err != nil || strings.Join(p.AllowedBindSources, ",") != "/srv/v,/var/lib/y" || p.AllowedRootPrefixes == nil || len(p.AllowedRootPrefixes) != 0 {
		t.Errorf("ParsePolicy = %+v, %v", p, err)
	}
	if _, err := ParsePolicy([]byte("level: baseline\nallowedBindSources: [srv]\n")); err == nil ||
		!strings.Contains(err.Error(), `allowedBindSources[0]: Invalid value: "srv": must be an absolute path`) {
		t.Errorf("ParsePolicy(relative) = %v", err)
	}
}
