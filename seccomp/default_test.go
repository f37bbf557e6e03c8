package seccomp

import (
	"errors"
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

// verdict is the action p takes on syscall name called with args, and its
// errno: an allow rule that matches wins, then any other rule that
// matches, then the default. A rule matches when each of its conditions
// holds; that is how libseccomp reads the rules of RuntimeDefault, which
// never compare one argument twice in a rule (runc would OR those).
func verdict(p *specs.LinuxSeccomp, name string, args ...uint64) (specs.LinuxSeccompAction, uint) {
	var other *specs.LinuxSyscall
	for i, r := range p.Syscalls {
		if !slices.Contains(r.Names, name) || !argsMatch(r.Args, args) {
			continue
		}
		if r.Action == specs.ActAllow {
			return specs.ActAllow, 0
		}
		if other == nil {
			other = &p.Syscalls[i]
		}
	}
	if other != nil {
		return other.Action, deref(other.ErrnoRet)
	}
	return p.DefaultAction, deref(p.DefaultErrnoRet)
}

func argsMatch(conds []specs.LinuxSeccompArg, args []uint64) bool {
	for _, c := range conds {
		var v uint64
		if int(c.Index) < len(args) {
			v = args[c.Index]
		}
		var ok bool
		switch c.Op {
		case specs.OpEqualTo:
			ok = v == c.Value
		case specs.OpNotEqual:
			ok = v != c.Value
		case specs.OpLessThan:
			ok = v < c.Value
		case specs.OpLessEqual:
			ok = v <= c.Value
		case specs.OpGreaterThan:
			ok = v > c.Value
		case specs.OpGreaterEqual:
			ok = v >= c.Value
		case specs.OpMaskedEqual:
			ok = v&c.Value == c.ValueTwo
		}
		if !ok {
			return false
		}
	}
	return true
}

func deref(p *uint) uint {
	if p == nil {
		return 0
	}
	return *p
}

// allCaps are the capabilities moby's profile looks at.
var allCaps = []string{
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_SYS_MODULE",
	"CAP_SYS_PACCT", "CAP_SYS_PTRACE", "CAP_SYS_RAWIO", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_SYSLOG", "CAP_BPF",
	"CAP_PERFMON", "CAP_DAC_READ_SEARCH",
}

// unknownKernel makes RuntimeDefault see moby's library fail to learn the
// kernel's version until the test ends.
func unknownKernel(t *testing.T) {
	t.Helper()
	saved := mobyDefault
	mobyDefault = func(*specs.Spec) (*specs.LinuxSeccomp, error) {
		return nil, errors.New("uname: operation not permitted")
	}
	t.Cleanup(func() { mobyDefault = saved })
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

func TestRuntimeDefaultNativeArchitecture(t *testing.T) {
	var allowed, denied []string
	switch runtime.GOARCH {
	case "amd64":
		allowed, denied = []string{"arch_prctl", "modify_ldt"}, []string{"set_tls", "s390_runtime_instr"}
	case "arm64":
		allowed, denied = []string{"set_tls", "cacheflush", "sync_file_range2"}, []string{"arch_prctl", "modify_ldt"}
	default:
		t.Skipf("no expectations for %s", runtime.GOARCH)
	}
	p := RuntimeDefault(nil)
	for _, n := range allowed {
		if !allows(p, n) {
			t.Errorf("RuntimeDefault(nil) on %s does not allow %s", runtime.GOARCH, n)
		}
	}
	for _, n := range denied {
		if mentions(p, specs.ActAllow, n) {
			t.Errorf("RuntimeDefault(nil) on %s allows %s", runtime.GOARCH, n)
		}
	}
}

func TestRuntimeDefaultCommonSyscalls(t *testing.T) {
	p := RuntimeDefault(nil)
	for _, n := range []string{
		"read", "write", "execve", "openat", "openat2", "close_range",
		"epoll_pwait2", "faccessat2", "fchmodat2", "futex_waitv",
		"landlock_create_ruleset", "map_shadow_stack", "mseal", "cachestat",
		"process_mrelease", "rseq", "ptrace", "pipe2", "wait4", "bind",
		"listen", "connect", "accept4", "socketpair",
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

// Kernel keyrings are not namespaced: a container that may call keyctl
// reaches the keys of the node's users with its uid.
func TestRuntimeDefaultKeyring(t *testing.T) {
	for _, caps := range [][]string{nil, allCaps} {
		p := RuntimeDefault(caps)
		for _, n := range []string{"add_key", "keyctl", "request_key"} {
			if mentions(p, specs.ActAllow, n) {
				t.Errorf("RuntimeDefault(%v) allows %s", caps, n)
			}
			if a, errno := verdict(p, n); a != specs.ActErrno || errno != 1 {
				t.Errorf("RuntimeDefault(%v): %s gets %s errno %d, want SCMP_ACT_ERRNO EPERM", caps, n, a, errno)
			}
		}
	}
}

func TestRuntimeDefaultSocketFamilies(t *testing.T) {
	tests := []struct {
		name   string
		family uint64
		allow  bool
	}{
		{"AF_UNIX", 1, true},
		{"AF_INET", 2, true},
		{"AF_INET6", 10, true},
		{"AF_NETLINK", 16, true},
		{"AF_PACKET", 17, true},
		{"AF_XDP", 44, true},
		{"AF_IPX", 4, false},    // removed from the kernel
		{"AF_ALG", 38, false},   // the kernel's crypto API
		{"AF_VSOCK", 40, false}, // host-guest sockets, global by default
		{"AF_MAX", 46, false},
		{"beyond", 1 << 32, false},
	}
	for _, caps := range [][]string{nil, allCaps} {
		p := RuntimeDefault(caps)
		for _, tc := range tests {
			a, errno := verdict(p, "socket", tc.family, 1, 0)
			if got := a == specs.ActAllow; got != tc.allow {
				t.Errorf("RuntimeDefault(%v): socket(%s) = %s errno %d, want allowed %v", caps, tc.name, a, errno, tc.allow)
			}
			if !tc.allow && errno != 1 {
				t.Errorf("RuntimeDefault(%v): socket(%s) errno = %d, want EPERM", caps, tc.name, errno)
			}
		}
	}
}

func TestRuntimeDefaultCapabilities(t *testing.T) {
	tests := []struct {
		cap      string
		syscalls []string
	}{
		{"CAP_SYS_ADMIN", []string{"mount", "umount2", "unshare", "setns", "clone", "clone3", "bpf", "syslog", "fsopen", "open_tree"}},
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
	const (
		sigchld     = 17
		cloneVM     = 0x100
		cloneNewNS  = 0x20000
		cloneNewUsr = 0x10000000
		cloneNewNet = 0x40000000
	)
	flagsIndex := 0
	if runtime.GOARCH == "s390x" {
		flagsIndex = 1
	}
	call := func(flags uint64) []uint64 {
		args := make([]uint64, 2)
		args[flagsIndex] = flags
		return args
	}
	tests := []struct {
		name  string
		caps  []string
		flags uint64
		allow bool
	}{
		{"fork", nil, sigchld, true},
		{"thread", nil, cloneVM | sigchld, true},
		{"new user namespace", nil, cloneNewUsr | sigchld, false},
		{"new mount and net namespaces", nil, cloneNewNS | cloneNewNet, false},
		{"sys_admin: new user namespace", []string{"CAP_SYS_ADMIN"}, cloneNewUsr | sigchld, true},
	}
	for _, tc := range tests {
		p := RuntimeDefault(tc.caps)
		a, errno := verdict(p, "clone", call(tc.flags)...)
		if got := a == specs.ActAllow; got != tc.allow {
			t.Errorf("RuntimeDefault(%v): clone(%s) = %s errno %d, want allowed %v", tc.caps, tc.name, a, errno, tc.allow)
		}
	}
	// clone3 passes its flags in memory, out of seccomp's sight: refused
	// with ENOSYS so that libcs fall back to clone.
	if a, errno := verdict(RuntimeDefault(nil), "clone3"); a != specs.ActErrno || errno != 38 {
		t.Errorf("RuntimeDefault(nil): clone3 = %s errno %d, want SCMP_ACT_ERRNO ENOSYS (38)", a, errno)
	}
	if a, _ := verdict(RuntimeDefault([]string{"CAP_SYS_ADMIN"}), "clone3"); a != specs.ActAllow {
		t.Errorf("RuntimeDefault(CAP_SYS_ADMIN): clone3 = %s, want allowed", a)
	}
}

func TestRuntimeDefaultUnknownKernel(t *testing.T) {
	known := RuntimeDefault(nil)
	unknownKernel(t)
	p := RuntimeDefault(nil)
	if err := validate(p); err != nil {
		t.Fatalf("validate(RuntimeDefault(nil)) with an unknown kernel = %v", err)
	}
	// Only the rule of moby's that needs kernel 4.8 (ptrace without
	// CAP_SYS_PTRACE) is left out; a container still runs.
	if len(p.Syscalls) != len(known.Syscalls)-1 {
		t.Errorf("RuntimeDefault(nil) with an unknown kernel has %d rules, want %d", len(p.Syscalls), len(known.Syscalls)-1)
	}
	for _, n := range []string{"read", "execve", "wait4"} {
		if !allows(p, n) {
			t.Errorf("RuntimeDefault(nil) with an unknown kernel does not allow %s", n)
		}
	}
	if mentions(p, specs.ActAllow, "ptrace") || mentions(p, specs.ActAllow, "keyctl") {
		t.Errorf("RuntimeDefault(nil) with an unknown kernel allows ptrace or keyctl")
	}
	if !allows(RuntimeDefault([]string{"CAP_SYS_PTRACE"}), "ptrace") {
		t.Errorf("RuntimeDefault(CAP_SYS_PTRACE) with an unknown kernel does not allow ptrace")
	}
}

func TestRuntimeDefaultRules(t *testing.T) {
	for _, caps := range [][]string{nil, allCaps} {
		p := RuntimeDefault(caps)
		if err := validate(p); err != nil {
			t.Errorf("validate(RuntimeDefault(%v)) = %v", caps, err)
		}
		for i, r := range p.Syscalls {
			if !slices.IsSorted(r.Names) {
				t.Errorf("RuntimeDefault(%v).Syscalls[%d].Names not sorted: %v", caps, i, r.Names)
			}
			if c := slices.Compact(slices.Clone(r.Names)); len(c) != len(r.Names) {
				t.Errorf("RuntimeDefault(%v).Syscalls[%d].Names has duplicates", caps, i)
			}
		}
	}
	// Without capabilities, no name is in two unconditional allow rules.
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
	caps[0] = "CAP_CHANGED"
	if c := RuntimeDefault([]string{"CAP_SYS_TIME", "CAP_SYS_ADMIN"}); !reflect.DeepEqual(b, c) {
		t.Errorf("RuntimeDefault changed after its previous result was modified")
	}
}
