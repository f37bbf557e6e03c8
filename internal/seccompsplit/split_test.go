//go:build seccomp

package seccompsplit

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/seccomp"
)

// defaultCaps are a default container's capabilities (the runtime's).
var defaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}

// TestSeccompSplitExact: for RuntimeDefault under several capability
// sets, the early and late programs, as libcontainer makes them, give
// together the verdict libcontainer's program of the whole profile gives,
// for every system call number of each architecture of the profile (x32
// too), with the arguments its conditions test, and for an architecture
// it does not name. The programs run in x/net/bpf's interpreter; the
// verdicts combine as the kernel combines its filters' (the strictest
// action wins).
func TestSeccompSplitExact(t *testing.T) {
	requireRoot(t) // PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN
	for _, tc := range []struct {
		name    string
		caps    []string
		refused []string // calls RuntimeDefault allows that the profile does not
	}{
		{"no capabilities", nil, nil},
		{"default capabilities", defaultCaps, nil},
		{"CAP_SYS_ADMIN too", append(slices.Clone(defaultCaps), "CAP_SYS_ADMIN"), nil},
		// What the init's Go runtime needs, which the late filter refuses.
		{"rseq, futex and exit_group refused", defaultCaps, []string{"rseq", "futex", "exit_group"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			profile := seccomp.RuntimeDefault(tc.caps)
			for i := range profile.Syscalls {
				profile.Syscalls[i].Names = slices.DeleteFunc(slices.Clone(profile.Syscalls[i].Names), func(n string) bool {
					return slices.Contains(tc.refused, n)
				})
			}
			cfg, err := specconv.SetupSeccomp(profile)
			if err != nil {
				t.Fatal(err)
			}
			sp := Split(cfg)
			if sp == nil {
				t.Fatal("Split(RuntimeDefault) = nil, want a split")
			}
			full, early, late := exportVM(t, cfg), exportVM(t, sp.Early), exportVM(t, sp.Late)
			args := [][6]uint64{{}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
			for _, c := range cfg.Syscalls {
				for _, a := range c.Args {
					for _, v := range []uint64{a.Value, a.Value + 1, a.Value - 1, a.ValueTwo} {
						var x [6]uint64
						x[a.Index] = v
						args = append(args, x)
					}
				}
			}
			type call struct {
				arch, nr uint32
			}
			var calls []call
			for nr := uint32(0); nr < 1100; nr++ {
				calls = append(calls, call{unix.AUDIT_ARCH_X86_64, nr}, call{unix.AUDIT_ARCH_X86_64, nr | 0x40000000}, call{unix.AUDIT_ARCH_I386, nr})
			}
			calls = append(calls, call{unix.AUDIT_ARCH_AARCH64, 0}, call{unix.AUDIT_ARCH_X86_64, 0x7fffffff}, call{unix.AUDIT_ARCH_I386, 0xffffffff})
			bad := 0
			for _, c := range calls {
				for _, a := range args {
					data := seccompData(c.arch, c.nr, a)
					want, got := runVM(t, full, data), combineVerdicts(runVM(t, late, data), runVM(t, early, data))
					if got != want && bad < 10 {
						bad++
						t.Errorf("arch %#x nr %d args %v: split verdict %#x, whole profile %#x", c.arch, c.nr, a, got, want)
					}
				}
			}
		})
	}
}

// TestSplitSeccompRefuses: profiles whose split would not be exact stay
// whole.
func TestSplitSeccompRefuses(t *testing.T) {
	eperm := uint(unix.EPERM)
	base := func() *configs.Seccomp {
		return &configs.Seccomp{DefaultAction: configs.Errno, DefaultErrnoRet: &eperm, Architectures: []string{"amd64"},
			Syscalls: []*configs.Syscall{{Name: "read", Action: configs.Allow}, {Name: "futex_wake", Action: configs.Allow}}}
	}
	for _, tc := range []struct {
		name   string
		change func(*configs.Seccomp)
	}{
		{"allow by default", func(c *configs.Seccomp) { c.DefaultAction = configs.Allow }},
		{"log by default", func(c *configs.Seccomp) { c.DefaultAction = configs.Log }},
		{"a notify listener", func(c *configs.Seccomp) { c.ListenerPath = "/run/agent.sock" }},
		{"a notify rule", func(c *configs.Seccomp) {
			c.Syscalls = append(c.Syscalls, &configs.Syscall{Name: "open", Action: configs.Notify})
		}},
		{"wait-killable flag", func(c *configs.Seccomp) { c.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"} }},
		{"conditions on mount", func(c *configs.Seccomp) {
			c.Syscalls = append(c.Syscalls, &configs.Syscall{Name: "mount", Action: configs.Allow, Args: []*configs.Arg{{Index: 3, Value: 0, Op: configs.EqualTo}}})
		}},
		{"two rules for keyctl", func(c *configs.Seccomp) {
			c.Syscalls = append(c.Syscalls, &configs.Syscall{Name: "keyctl", Action: configs.Allow}, &configs.Syscall{Name: "keyctl", Action: configs.Errno})
		}},
		{"logged mount", func(c *configs.Seccomp) {
			c.Syscalls = append(c.Syscalls, &configs.Syscall{Name: "mount", Action: configs.Log})
		}},
		{"highest call moves", func(c *configs.Seccomp) { c.Syscalls = c.Syscalls[:1] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if Split(base()) == nil {
				t.Fatal("Split(base) = nil, want a split")
			}
			c := base()
			tc.change(c)
			if sp := Split(c); sp != nil {
				t.Errorf("Split(%s) = %+v, want nil", tc.name, sp)
			}
		})
	}
}

// TestCheckSeccompFilters: a process without the two filters of a split
// profile is found out.
func TestCheckSeccompFilters(t *testing.T) {
	if err := CheckFilters(os.Getpid()); err == nil || !strings.Contains(err.Error(), "runs under 0 seccomp filters") {
		t.Errorf("CheckFilters(self) = %v, want an error naming 0 filters", err)
	}
}

// exportVM is libcontainer's program for cfg in an interpreter.
func exportVM(t *testing.T, cfg *configs.Seccomp) *bpf.VM {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := seccompExport(b)
	if err != nil {
		t.Fatalf("seccompExport: %v", err)
	}
	insns := make([]bpf.Instruction, len(prog)/8)
	for i := range insns {
		raw := bpf.RawInstruction{
			Op: binary.NativeEndian.Uint16(prog[8*i:]), Jt: prog[8*i+2], Jf: prog[8*i+3],
			K: binary.NativeEndian.Uint32(prog[8*i+4:]),
		}
		insns[i] = raw.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("bpf.NewVM: %v", err)
	}
	return vm
}

// seccompData is struct seccomp_data as the interpreter reads it: its
// loads are 32-bit and big-endian, so every 32-bit word is stored
// big-endian where the kernel keeps it (a 64-bit argument's low word
// first on this little-endian machine).
func seccompData(arch, nr uint32, args [6]uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[0:], nr)
	binary.BigEndian.PutUint32(b[4:], arch)
	for i, a := range args {
		binary.BigEndian.PutUint32(b[16+8*i:], uint32(a))
		binary.BigEndian.PutUint32(b[16+8*i+4:], uint32(a>>32))
	}
	return b
}

func runVM(t *testing.T, vm *bpf.VM, data []byte) uint32 {
	t.Helper()
	v, err := vm.Run(data)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(v)
}

// combineVerdicts is the kernel's seccomp_run_filters over two filters,
// the most recent first: the action that sorts lowest as a signed number
// wins, the most recent filter's on a tie.
func combineVerdicts(recent, older uint32) uint32 {
	action := func(v uint32) int32 { return int32(v & unix.SECCOMP_RET_ACTION_FULL) }
	if action(older) < action(recent) {
		return older
	}
	return recent
}

func Example_combineVerdicts() {
	fmt.Printf("%#x\n", combineVerdicts(unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_ERRNO|1))
	// Output: 0x50001
}

// BenchmarkSplit splits RuntimeDefault, as every container's start does.
func BenchmarkSplit(b *testing.B) {
	cfg, err := specconv.SetupSeccomp(seccomp.RuntimeDefault(defaultCaps))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if Split(cfg) == nil {
			b.Fatal("Split(RuntimeDefault) = nil")
		}
	}
}
