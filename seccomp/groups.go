package seccomp

import specs "github.com/opencontainers/runtime-spec/specs-go"

// ruleGroup is one rule of the RuntimeDefault profile and the conditions
// under which the profile includes it.
type ruleGroup struct {
	names  []string
	action specs.LinuxSeccompAction // empty means SCMP_ACT_ALLOW
	errno  uint                     // errnoRet, set only for SCMP_ACT_ERRNO
	args   []specs.LinuxSeccompArg

	arches    []string // GOARCH values; empty means every architecture
	notArches []string // GOARCH values for which the rule is left out
	cap       string   // included only if the container holds cap
	notCap    string   // left out if the container holds notCap
}

// Values of the raw syscall arguments the argument-restricted rules match,
// from the kernel's uapi headers (this package does not import x/sys/unix).
const (
	errnoEPERM  = 1  // EPERM, the default action's errno
	errnoENOSYS = 38 // ENOSYS, "not implemented"

	afVSOCK = 40 // AF_VSOCK: host-guest sockets, no namespace isolates them

	perLinux   = 0x0000     // PER_LINUX
	perLinux32 = 0x0008     // PER_LINUX32
	perUname26 = 0x20000    // UNAME26
	perQuery   = 0xffffffff // personality(0xffffffff) reads the persona

	// cloneNamespaces are the CLONE_NEW* flags: without CAP_SYS_ADMIN,
	// clone(2) may not create namespaces.
	cloneNamespaces = 0x00020000 | // CLONE_NEWNS
		0x02000000 | // CLONE_NEWCGROUP
		0x04000000 | // CLONE_NEWUTS
		0x08000000 | // CLONE_NEWIPC
		0x10000000 | // CLONE_NEWUSER
		0x20000000 | // CLONE_NEWPID
		0x40000000 // CLONE_NEWNET
)

// argEq matches when syscall argument index equals value.
func argEq(index uint, value uint64) []specs.LinuxSeccompArg {
	return []specs.LinuxSeccompArg{{Index: index, Value: value, Op: specs.OpEqualTo}}
}

// defaultGroups is the RuntimeDefault profile, in the order of moby's
// default.json so that the two can be compared rule by rule.
var defaultGroups = []ruleGroup{
	{names: allowed},
	// moby and containerd allow these without CAP_SYS_PTRACE on kernels
	// 4.8 and later, which stopped ptrace from bypassing seccomp. podsec
	// assumes such a kernel, so that the profile depends on no host state.
	{names: []string{"process_vm_readv", "process_vm_writev", "ptrace"}},
	{names: []string{"socket"}, args: []specs.LinuxSeccompArg{
		{Index: 0, Value: afVSOCK, Op: specs.OpNotEqual},
	}},
	// personality(2) only for the personas programs ask for in practice
	// (32-bit, uname26) and for reading the current one.
	{names: []string{"personality"}, args: argEq(0, perLinux)},
	{names: []string{"personality"}, args: argEq(0, perLinux32)},
	{names: []string{"personality"}, args: argEq(0, perUname26)},
	{names: []string{"personality"}, args: argEq(0, perUname26|perLinux32)},
	{names: []string{"personality"}, args: argEq(0, perQuery)},

	{names: []string{"swapcontext", "sync_file_range2"}, arches: []string{"ppc64le"}},
	{names: []string{
		"arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush",
		"set_tls", "sync_file_range2",
	}, arches: []string{"arm", "arm64"}},
	{names: []string{"arch_prctl"}, arches: []string{"amd64"}},
	{names: []string{"modify_ldt"}, arches: []string{"386", "amd64"}},
	{names: []string{
		"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr",
	}, arches: []string{"s390x"}},
	{names: []string{"riscv_flush_icache"}, arches: []string{"riscv64"}},

	{names: []string{"open_by_handle_at"}, cap: "CAP_DAC_READ_SEARCH"},
	{names: []string{
		"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount",
		"fsopen", "fspick", "lookup_dcookie", "lsm_get_self_attr",
		"lsm_list_modules", "lsm_set_self_attr", "mount", "mount_setattr",
		"move_mount", "open_tree", "perf_event_open", "quotactl",
		"quotactl_fd", "setdomainname", "sethostname", "setns", "syslog",
		"umount", "umount2", "unshare",
	}, cap: "CAP_SYS_ADMIN"},
	// Without CAP_SYS_ADMIN, clone(2) may not create namespaces. The flags
	// are the first argument, except on s390x where they are the second.
	{names: []string{"clone"}, notCap: "CAP_SYS_ADMIN", notArches: []string{"s390x"},
		args: []specs.LinuxSeccompArg{{Index: 0, Value: cloneNamespaces, Op: specs.OpMaskedEqual}}},
	{names: []string{"clone"}, notCap: "CAP_SYS_ADMIN", arches: []string{"s390x"},
		args: []specs.LinuxSeccompArg{{Index: 1, Value: cloneNamespaces, Op: specs.OpMaskedEqual}}},
	// clone3 passes its flags in memory, where seccomp cannot see them, so
	// it is refused; ENOSYS rather than EPERM makes glibc fall back to clone.
	{names: []string{"clone3"}, notCap: "CAP_SYS_ADMIN",
		action: specs.ActErrno, errno: errnoENOSYS},

	{names: []string{"reboot"}, cap: "CAP_SYS_BOOT"},
	{names: []string{"chroot"}, cap: "CAP_SYS_CHROOT"},
	{names: []string{"delete_module", "finit_module", "init_module"}, cap: "CAP_SYS_MODULE"},
	{names: []string{"acct"}, cap: "CAP_SYS_PACCT"},
	{names: []string{
		"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
		"process_vm_writev", "ptrace",
	}, cap: "CAP_SYS_PTRACE"},
	{names: []string{"ioperm", "iopl"}, cap: "CAP_SYS_RAWIO"},
	{names: []string{
		"clock_settime", "clock_settime64", "settimeofday", "stime",
	}, cap: "CAP_SYS_TIME"},
	{names: []string{"vhangup"}, cap: "CAP_SYS_TTY_CONFIG"},
	{names: []string{
		"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node",
	}, cap: "CAP_SYS_NICE"},
	{names: []string{"syslog"}, cap: "CAP_SYSLOG"},
	{names: []string{"bpf"}, cap: "CAP_BPF"},
	{names: []string{"perf_event_open"}, cap: "CAP_PERFMON"},
}

// archInfo describes one Go architecture: the name Docker profiles use for
// it in includes/excludes.arches, and the seccomp architectures a filter
// must cover, native first, then those whose binaries the kernel also runs.
type archInfo struct {
	native string
	arches []specs.Arch
}

// goArches maps runtime.GOARCH to its archInfo, as moby's goToNative and
// default archMap do. An architecture missing here gets no architectures
// list, which libseccomp reads as the native architecture only.
var goArches = map[string]archInfo{
	"386":      {"x86", []specs.Arch{specs.ArchX86}},
	"amd64":    {"amd64", []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}},
	"arm":      {"arm", []specs.Arch{specs.ArchARM}},
	"arm64":    {"arm64", []specs.Arch{specs.ArchAARCH64, specs.ArchARM}},
	"loong64":  {"loong64", []specs.Arch{specs.ArchLOONGARCH64}},
	"mips64":   {"mips64", []specs.Arch{specs.ArchMIPS64, specs.ArchMIPS, specs.ArchMIPS64N32}},
	"mips64le": {"mipsel64", []specs.Arch{specs.ArchMIPSEL64, specs.ArchMIPSEL, specs.ArchMIPSEL64N32}},
	"ppc64":    {"ppc64", []specs.Arch{specs.ArchPPC64}},
	"ppc64le":  {"ppc64le", []specs.Arch{specs.ArchPPC64LE}},
	"riscv64":  {"riscv64", []specs.Arch{specs.ArchRISCV64}},
	"s390x":    {"s390x", []specs.Arch{specs.ArchS390X, specs.ArchS390}},
}
