package seccomp

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fixedKernel returns a target.kernel that reports v.
func fixedKernel(v kernelVersion) func() (kernelVersion, error) {
	return func() (kernelVersion, error) { return v, nil }
}

func allow(names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: specs.ActAllow}
}

func TestParseDockerFilters(t *testing.T) {
	data, err := os.ReadFile("testdata/moby/filters.json")
	if err != nil {
		t.Fatal(err)
	}
	clone := specs.LinuxSyscall{Names: []string{"clone"}, Action: specs.ActAllow,
		Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x7e020000, Op: specs.OpMaskedEqual}}}
	kill := specs.LinuxSyscall{Names: []string{"kexec_load"}, Action: specs.ActKillProcess}
	base := []specs.LinuxSyscall{allow("read", "write", "exit_group"), allow("getpid")}
	x86 := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	tests := []struct {
		name   string
		target target
		arches []specs.Arch
		rules  []specs.LinuxSyscall
	}{
		{"amd64 unprivileged", target{"amd64", nil, fixedKernel(kernelVersion{6, 8})}, x86,
			append(base[:2:2], clone, allow("arch_prctl"), allow("ptrace"), kill)},
		{"amd64 sys_admin", target{"amd64", []string{"CAP_SYS_ADMIN"}, fixedKernel(kernelVersion{6, 8})}, x86,
			append(base[:2:2], allow("mount", "umount2"), allow("arch_prctl"), allow("ptrace"), kill)},
		{"amd64 old kernel", target{"amd64", nil, fixedKernel(kernelVersion{4, 4})}, x86,
			append(base[:2:2], clone, allow("arch_prctl"), kill)},
		{"arm64", target{"arm64", nil, fixedKernel(kernelVersion{6, 8})}, []specs.Arch{specs.ArchAARCH64, specs.ArchARM},
			append(base[:2:2], clone, allow("ptrace"), kill)},
		{"s390x, not in archMap", target{"s390x", nil, fixedKernel(kernelVersion{6, 8})}, nil,
			append(base[:2:2], clone, allow("ptrace"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(data, tc.target)
			if err != nil {
				t.Fatalf("parse(filters.json) error = %v", err)
			}
			errno := uint(1)
			want := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: &errno,
				Architectures: tc.arches, Syscalls: tc.rules}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parse(filters.json, %s) =\n%+v\nwant\n%+v", tc.name, got, want)
			}
		})
	}
}

func TestParseKernelUnreadable(t *testing.T) {
	data := []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "excludes": {"minKernel": "4.8"}}]}`)
	broken := errors.New("no /proc")
	tg := target{"amd64", nil, func() (kernelVersion, error) { return kernelVersion{}, broken }}
	if _, err := parse(data, tg); !errors.Is(err, broken) {
		t.Errorf("parse() with an unreadable kernel version = %v, want %v", err, broken)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string // part of the message
	}{
		{"empty", "  \n", "empty file"},
		{"syntax", "{\n\"defaultAction\": }", "decoding JSON at line 2, column 18"},
		{"unknown field", `{"defaultAction": "SCMP_ACT_LOG", "default": 1}`, `unknown field "default"`},
		{"unknown rule field", `{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "arg": []}]}`, `unknown field "arg"`},
		{"wrong type", `{"defaultAction": "SCMP_ACT_LOG", "defaultErrnoRet": -1}`, "decoding JSON at line 1"},
		{"not an object", `[]`, "decoding JSON"},
		{"trailing data", `{"defaultAction": "SCMP_ACT_LOG"} {}`, "data after the profile"},
		{"no default action", `{"syscalls": []}`, "defaultAction: missing"},
		{"unknown default action", `{"defaultAction": "SCMP_ACT_DENY"}`, `defaultAction: unknown action "SCMP_ACT_DENY"`},
		{"notify default", `{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/x.sock"}`, "cannot be the default action"},
		{"unknown action", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["x"], "action": "SCMP_ACT_FOO"}]}`, `syscalls[1].action: unknown action "SCMP_ACT_FOO"`},
		{"no action", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"]}]}`, "syscalls[0].action: missing"},
		{"unknown operator", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}`, `syscalls[0].args[0].op: unknown operator "SCMP_CMP_LIKE"`},
		{"arg index", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, "syscalls[0].args[0].index: 6"},
		{"unknown arch", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]}`, `architectures[1]: unknown architecture "SCMP_ARCH_Z80"`},
		{"unknown archMap arch", `{"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["x86"]}]}`, `archMap[0].subArchitectures[0]: unknown architecture "x86"`},
		{"both arch forms", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}`, "both architectures and archMap"},
		{"unknown flag", `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}`, `flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FAST"`},
		{"name and names", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_LOG"}]}`, "syscalls[0]: both name and names"},
		{"no names", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_LOG"}]}`, "syscalls[0].names: no syscall named"},
		{"empty name", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", ""], "action": "SCMP_ACT_LOG"}]}`, "syscalls[0].names[1]: empty syscall name"},
		{"errnoRet on allow", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG", "errnoRet": 1}]}`, "syscalls[0].errnoRet: set, but action SCMP_ACT_LOG"},
		{"errnoRet too large", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}`, "defaultErrnoRet: 70000, must be at most 4095"},
		{"notify without listener", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]}`, "needs the profile's listenerPath"},
		{"notify write", `{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/a.sock", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]}`, "cannot be used for write"},
		{"bad minKernel", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG", "includes": {"caps": ["CAP_X"], "minKernel": "4"}}]}`, `syscalls[0].includes.minKernel: invalid kernel version "4"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.json), target{"amd64", nil, fixedKernel(kernelVersion{6, 8})})
			if !errors.Is(err, ErrInvalidProfile) {
				t.Fatalf("parse(%s) = %v, want an ErrInvalidProfile", tc.json, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parse(%s) = %q, want it to contain %q", tc.json, err, tc.want)
			}
		})
	}
}
