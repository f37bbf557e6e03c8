package seccomp

import (
	"reflect"
	"runtime"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// allows reports whether p allows name unconditionally: by a rule with
// action SCMP_ACT_ALLOW and no argument conditions.
func allows(p *specs.LinuxSeccomp, name string) bool {
	for _, r := range p.Syscalls {
		if r.Action == specs.ActAllow && len(r.Args) == 0 && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}

// mentions reports whether any rule of p with action names name.
func mentions(p *specs.LinuxSeccomp, action specs.LinuxSeccompAction, name string) bool {
	for _, r := range p.Syscalls {
		if r.Action == action && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}

func TestRuntimeDefaultDefaults(t *testing.T) {
	p := RuntimeDefault(nil)
	if p.DefaultAction != specs.ActErrno {
		t.Errorf("RuntimeDefault(nil).DefaultAction = %q, want %q", p.DefaultAction, specs.ActErrno)
	}
	if p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
		t.Errorf("RuntimeDefault(nil).DefaultErrnoRet = %v, want EPERM (1)", p.DefaultErrnoRet)
	}
	if want := goArches[runtime.GOARCH].arches; !slices.Equal(p.Architectures, want) {
		t.Errorf("RuntimeDefault(nil).Architectures = %v, want %v", p.Architectures, want)
	}
	if err := validate(p); err != nil {
		t.Errorf("validate(RuntimeDefault(nil)) = %v, want nil", err)
	}
}

func TestRuntimeDefaultArchitectures(t *testing.T) {
	tests := []struct {
		goarch  string
		want    []specs.Arch
		allowed []string
		denied  []string
	}{
		{"amd64", []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
			[]string{"arch_prctl", "modify_ldt"}, []string{"set_tls", "s390_runtime_instr"}},
		{"arm64", []specs.Arch{specs.ArchAARCH64, specs.ArchARM},
			[]string{"set_tls", "cacheflush", "sync_file_range2"}, []string{"arch_prctl", "modify_ldt"}},
		{"s390x", []specs.Arch{specs.ArchS390X, specs.ArchS390},
			[]string{"s390_runtime_instr"}, []string{"arch_prctl"}},
		{"wasm", nil, nil, []string{"arch_prctl", "set_tls"}},
	}
	for _, tc := range tests {
		t.Run(tc.goarch, func(t *testing.T) {
			p := runtimeDefault(tc.goarch, nil)
			if !slices.Equal(p.Architectures, tc.want) {
				t.Errorf("runtimeDefault(%q).Architectures = %v, want %v", tc.goarch, p.Architectures, tc.want)
			}
			for _, n := range tc.allowed {
				if !allows(p, n) {
					t.Errorf("runtimeDefault(%q) does not allow %s", tc.goarch, n)
				}
			}
			for _, n := range tc.denied {
				if mentions(p, specs.ActAllow, n) {
					t.Errorf("runtimeDefault(%q) allows %s", tc.goarch, n)
				}
			}
		})
	}
}

func TestRuntimeDefaultCommonSyscalls(t *testing.T) {
	p := RuntimeDefault(nil)
	for _, n := range []string{
		"read", "write", "execve", "openat", "openat2", "close_range",
		"epoll_pwait2", "faccessat2", "fchmodat2", "futex_waitv",
		"landlock_create_ruleset", "map_shadow_stack", "mseal", "cachestat",
		"process_mrelease", "rseq", "ptrace",
	} {
		if !allows(p, n) {
			t.Errorf("RuntimeDefault(nil) does not allow %s", n)
		}
	}
	for _, n := range []string{"io_uring_setup", "kexec_load", "socket", "personality", "clone"} {
		if allows(p, n) {
			t.Errorf("RuntimeDefault(nil) allows %s without argument conditions", n)
		}
	}
}

func TestRuntimeDefaultCapabilities(t *testing.T) {
	tests := []struct {
		cap      string
		syscalls []string
	}{
		{"CAP_SYS_ADMIN", []string{"mount", "umount2", "unshare", "setns", "clone", "clone3", "bpf", "syslog"}},
		{"CAP_SYS_BOOT", []string{"reboot"}},
		{"CAP_SYS_CHROOT", []string{"chroot"}},
		{"CAP_SYS_MODULE", []string{"init_module", "finit_module", "delete_module"}},
		{"CAP_SYS_PACCT", []string{"acct"}},
		{"CAP_SYS_PTRACE", []string{"kcmp", "pidfd_getfd", "process_madvise"}},
		{"CAP_SYS_RAWIO", []string{"iopl", "ioperm"}},
		{"CAP_SYS_TIME", []string{"settimeofday", "stime", "clock_settime", "clock_settime64"}},
		{"CAP_SYS_TTY_CONFIG", []string{"vhangup"}},
		{"CAP_SYS_NICE", []string{"get_mempolicy", "mbind", "set_mempolicy"}},
		{"CAP_SYSLOG", []string{"syslog"}},
		{"CAP_BPF", []string{"bpf"}},
		{"CAP_PERFMON", []string{"perf_event_open"}},
		{"CAP_DAC_READ_SEARCH", []string{"open_by_handle_at"}},
	}
	for _, tc := range tests {
		t.Run(tc.cap, func(t *testing.T) {
			without := RuntimeDefault([]string{"CAP_CHOWN"})
			with := RuntimeDefault([]string{"CAP_CHOWN", tc.cap})
			for _, n := range tc.syscalls {
				if allows(without, n) {
					t.Errorf("RuntimeDefault(without %s) allows %s", tc.cap, n)
				}
				if !allows(with, n) {
					t.Errorf("RuntimeDefault(with %s) does not allow %s", tc.cap, n)
				}
			}
		})
	}
}

func TestRuntimeDefaultClone(t *testing.T) {
	enosys := specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: uintPtr(38)}
	tests := []struct {
		name      string
		goarch    string
		caps      []string
		wantIndex int // index of clone's flags in the masked rule; -1 for none
		wantNosys bool
	}{
		{"unprivileged", "amd64", nil, 0, true},
		{"unprivileged s390x", "s390x", nil, 1, true},
		{"sys_admin", "amd64", []string{"CAP_SYS_ADMIN"}, -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := runtimeDefault(tc.goarch, tc.caps)
			index := -1
			var nosys bool
			for _, r := range p.Syscalls {
				if slices.Equal(r.Names, []string{"clone"}) && len(r.Args) == 1 {
					a := r.Args[0]
					if a.Op != specs.OpMaskedEqual || a.Value != 0x7e020000 || a.ValueTwo != 0 {
						t.Errorf("clone rule arg = %+v, want MASKED_EQ 0x7e020000 == 0", a)
					}
					index = int(a.Index)
				}
				if reflect.DeepEqual(r, enosys) {
					nosys = true
				}
			}
			if index != tc.wantIndex {
				t.Errorf("runtimeDefault(%q, %v): clone flags index = %d, want %d", tc.goarch, tc.caps, index, tc.wantIndex)
			}
			if nosys != tc.wantNosys {
				t.Errorf("runtimeDefault(%q, %v): clone3 ENOSYS rule = %v, want %v", tc.goarch, tc.caps, nosys, tc.wantNosys)
			}
		})
	}
}

func TestRuntimeDefaultRules(t *testing.T) {
	all := []string{
		"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_SYS_MODULE",
		"CAP_SYS_PACCT", "CAP_SYS_PTRACE", "CAP_SYS_RAWIO", "CAP_SYS_TIME",
		"CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_SYSLOG", "CAP_BPF",
		"CAP_PERFMON", "CAP_DAC_READ_SEARCH",
	}
	for goarch := range goArches {
		for _, caps := range [][]string{nil, all} {
			p := runtimeDefault(goarch, caps)
			if err := validate(p); err != nil {
				t.Errorf("validate(runtimeDefault(%q, %v)) = %v", goarch, caps, err)
			}
			for i, r := range p.Syscalls {
				if !slices.IsSorted(r.Names) {
					t.Errorf("runtimeDefault(%q).Syscalls[%d].Names not sorted: %v", goarch, i, r.Names)
				}
				if c := slices.Compact(slices.Clone(r.Names)); len(c) != len(r.Names) {
					t.Errorf("runtimeDefault(%q).Syscalls[%d].Names has duplicates", goarch, i)
				}
			}
		}
	}
	// The unconditional rule must not repeat a name another
	// unconditional allow rule already has.
	p := RuntimeDefault(nil)
	seen := map[string]int{}
	for i, r := range p.Syscalls {
		if r.Action != specs.ActAllow || len(r.Args) > 0 {
			continue
		}
		for _, n := range r.Names {
			if j, ok := seen[n]; ok {
				t.Errorf("RuntimeDefault(nil): %s in both Syscalls[%d] and Syscalls[%d]", n, j, i)
			}
			seen[n] = i
		}
	}
}

func TestRuntimeDefaultDeterministic(t *testing.T) {
	caps := []string{"CAP_SYS_TIME", "CAP_SYS_ADMIN"}
	a, b := RuntimeDefault(caps), RuntimeDefault(caps)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("RuntimeDefault(%v) differs between two calls", caps)
	}
	// The results share no memory: changing one leaves the next alone.
	a.Syscalls[0].Names[0] = "changed"
	a.Architectures[0] = "changed"
	*a.DefaultErrnoRet = 99
	if c := RuntimeDefault(caps); !reflect.DeepEqual(b, c) {
		t.Errorf("RuntimeDefault(%v) changed after its previous result was modified", caps)
	}
}
