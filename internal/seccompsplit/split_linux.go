//go:build seccomp

package seccompsplit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"github.com/opencontainers/runc/libcontainer/configs"
	lcseccomp "github.com/opencontainers/runc/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/internal/trace"
)

// A container's seccomp profile is compiled by libseccomp inside
// libcontainer's init, on every start: for RuntimeDefault on amd64 (about
// 400 rules, three architectures) that is 20-50 ms, most of a pod's start.
// libcontainer takes no compiled program, so podsec splits the profile in
// two filters whose verdicts combined are the profile's own:
//
//   - early: the profile with initSyscalls allowed, compiled once into a
//     program by libcontainer's own code (seccompExport) and kept in the
//     seccomp cache. The container's init loads it first thing
//     (ContainerInit), before libcontainer sets the container up.
//   - late: allow everything but initSyscalls, which get the profile's
//     verdict: a handful of rules that libcontainer compiles in the init
//     in about 0.1 ms and loads where it would have loaded the profile.
//
// The kernel runs every filter of a process and takes the strictest
// verdict. For a system call of initSyscalls the early filter allows and
// the late one gives the profile's verdict; for any other the late one
// allows and the early one gives the profile's verdict (the ENOSYS stub
// libcontainer prepends included, Split checks it is the same). So
// the container's process runs under exactly its profile, and its init
// runs, until the late filter is in, under the profile less the calls it
// needs to set the container up, where it used to run under nothing.
//
// initSyscalls are what a container's init may call between the early
// filter and the late one, whatever the profile, so that the profile
// never refuses its init what runc's init (which runs under nothing
// until then) is allowed:
//   - what libcontainer's init calls that RuntimeDefault denies (mounts
//     old and new, pivot_root, the session keyring, the hostname, device
//     nodes, namespaces), whatever the container's capabilities;
//   - what the Go runtime and glibc call in any of the init's threads:
//     a thread the runtime starts under a filter that refuses it rseq
//     makes glibc abort the init, one refused futex, exit_group or a
//     signal call hangs it, so the container's create with it;
//   - what libcontainer's init calls to set the container up (files,
//     credentials, capabilities, the console and the sync socket), as
//     traced (strace -f of podsec-runtime run) and read in its code.
//
// Most profiles allow most of these, and the late filter holds a rule
// only for those the profile does not. A call of initSyscalls the profile
// names under conditions makes the split inexact (Split returns nil).
//
// Not among them, as RuntimeDefault names them under conditions: clone
// (its namespace flags) and socket (address families). Their rules stay
// in the early filter as the profile has them, exact. What the init
// calls them for (a thread, which glibc asks of clone3 first; the netlink
// socket that sets the loopback up) such a profile allows, and one that
// refuses it makes the init fail with an error, from the Go runtime's
// failed thread or libcontainer's failed call, never hang.
var initSyscalls = []string{
	// libcontainer's, denied by RuntimeDefault
	"fsconfig", "fsmount", "fsopen", "fspick", "keyctl", "mknod", "mknodat",
	"mount", "mount_setattr", "move_mount", "open_tree", "pivot_root",
	"setdomainname", "sethostname", "setns", "umount", "umount2", "unshare",
	// the Go runtime's and glibc's: threads, memory, signals, polling
	"brk", "clone3", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_wait",
	"eventfd2", "exit", "exit_group", "futex", "getpid", "getrandom", "gettid",
	"madvise", "mmap", "mprotect", "mremap", "munmap", "nanosleep", "pipe2",
	"restart_syscall", "rseq", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"sched_getaffinity", "sched_yield", "set_robust_list", "sigaltstack", "tgkill",
	// libcontainer's init setting the container up
	"access", "bind", "capget", "capset", "chdir", "chroot", "close", "close_range",
	"connect", "dup", "dup2", "dup3", "faccessat", "faccessat2", "fchdir", "fchmod",
	"fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fstat", "fstatfs",
	"getcwd", "getdents64", "getegid", "geteuid", "getgid", "getppid", "getsockname",
	"getuid", "ioctl", "kill", "lseek", "mkdirat", "newfstatat", "openat", "openat2",
	"prctl", "pread64", "prlimit64", "read", "readlinkat", "recvfrom", "recvmsg",
	"sendmsg", "sendto", "setgid", "setgroups", "setresgid", "setresuid", "setsid",
	"setuid", "statfs", "statx", "symlinkat", "umask", "uname", "unlinkat", "write",
}

// initSet is initSyscalls as a set; initTop, per architecture, the
// highest of them.
var (
	initSet = func() map[string]bool {
		m := make(map[string]bool, len(initSyscalls))
		for _, name := range initSyscalls {
			m[name] = true
		}
		return m
	}()
	initTopMu sync.Mutex
	initTop   = map[libseccomp.ScmpArch]initTopCall{}
)

// initTopCall is the highest call of initSyscalls on an architecture.
type initTopCall struct {
	nr   libseccomp.ScmpSyscall
	name string
}

// earlyFilterVersion names how the early program is made; it is part of
// its cache key.
const earlyFilterVersion = "podsec container early filter, libcontainer InitSeccomp via ptrace, v2"

// Filters is a container's profile as an early and a late filter.
type Filters struct {
	Early, Late *configs.Seccomp
}

// Split splits cfg, or returns nil when it is not a profile whose
// split is known to be exact: a permissive default, a notify listener,
// a flag other than TSYNC, SPEC_ALLOW or LOG, a rule with conditions or
// more than one rule for a call of initSyscalls, or one of them beyond
// the highest call the profile names (the ENOSYS stub would change).
func Split(cfg *configs.Seccomp) *Filters {
	if cfg == nil || cfg.ListenerPath != "" || isPermissive(cfg.DefaultAction) || cfg.DefaultAction == configs.Notify {
		return nil
	}
	for _, f := range cfg.Flags {
		if f != "SECCOMP_FILTER_FLAG_TSYNC" && f != specs.LinuxSeccompFlagSpecAllow && f != specs.LinuxSeccompFlagLog {
			return nil
		}
	}
	byName := map[string][]*configs.Syscall{}
	for _, c := range cfg.Syscalls {
		if c == nil || c.Action == configs.Notify {
			return nil
		}
		byName[c.Name] = append(byName[c.Name], c)
	}
	early := *cfg
	early.Syscalls = nil
	for _, c := range cfg.Syscalls {
		if !initSet[c.Name] {
			early.Syscalls = append(early.Syscalls, c)
		}
	}
	late := &configs.Seccomp{DefaultAction: configs.Allow, Architectures: cfg.Architectures, Flags: cfg.Flags}
	for _, name := range initSyscalls {
		rules := byName[name]
		if len(rules) > 1 || len(rules) == 1 && len(rules[0].Args) > 0 {
			return nil
		}
		early.Syscalls = append(early.Syscalls, &configs.Syscall{Name: name, Action: configs.Allow})
		switch {
		case len(rules) == 0:
			late.Syscalls = append(late.Syscalls, &configs.Syscall{Name: name, Action: cfg.DefaultAction, ErrnoRet: cfg.DefaultErrnoRet})
		case !isPermissive(rules[0].Action):
			late.Syscalls = append(late.Syscalls, rules[0])
		case rules[0].Action != configs.Allow:
			return nil // log or trace: only one filter may say so
		}
	}
	if !sameLastSyscalls(cfg) {
		return nil
	}
	return &Filters{Early: &early, Late: late}
}

// isPermissive is libcontainer's isAllowAction: actions after which the
// call goes on, for which it adds no ENOSYS stub.
func isPermissive(a configs.Action) bool {
	return a == configs.Allow || a == configs.Log || a == configs.Trace
}

// sameLastSyscalls reports whether cfg's early filter (cfg with every
// call of initSyscalls named) names the same highest system call as cfg
// on each architecture of cfg and the native one, as libcontainer's
// ENOSYS stub reads them. It does unless the highest of initSyscalls is
// one cfg does not name and is above every call cfg names. libseccomp
// resolves a name by a linear search, and RuntimeDefault names about 400
// calls: per architecture the highest of initSyscalls is found first,
// and cfg's calls are looked up only until one reaches it.
func sameLastSyscalls(cfg *configs.Seccomp) bool {
	arches := []libseccomp.ScmpArch{}
	if native, err := libseccomp.GetNativeArch(); err == nil {
		arches = append(arches, native)
	} else {
		return false
	}
	for _, name := range cfg.Architectures {
		arch, err := libseccomp.GetArchFromString(name)
		if err != nil {
			return false
		}
		arches = append(arches, arch)
	}
	named := make(map[string]bool, len(cfg.Syscalls))
	for _, c := range cfg.Syscalls {
		named[c.Name] = true
	}
	for _, arch := range arches {
		top, topName := initTopOf(arch)
		if topName == "" || named[topName] {
			continue
		}
		reached := false
		for _, c := range cfg.Syscalls {
			if nr, err := libseccomp.GetSyscallFromNameByArch(c.Name, arch); err == nil && nr >= top {
				reached = true
				break
			}
		}
		if !reached {
			return false
		}
	}
	return true
}

// initTopOf returns the highest call of initSyscalls on arch, found once
// (libseccomp resolves a name by a linear search).
func initTopOf(arch libseccomp.ScmpArch) (libseccomp.ScmpSyscall, string) {
	initTopMu.Lock()
	defer initTopMu.Unlock()
	if t, ok := initTop[arch]; ok {
		return t.nr, t.name
	}
	var t initTopCall
	for _, name := range initSyscalls {
		if nr, err := libseccomp.GetSyscallFromNameByArch(name, arch); err == nil && nr > t.nr {
			t = initTopCall{nr, name}
		}
	}
	initTop[arch] = t
	return t.nr, t.name
}

// EarlyFile returns the early filter's memory file for the init: its
// EarlyContent, sealed.
func EarlyFile(root string, sp *Filters) (*os.File, error) {
	b, err := EarlyContent(root, sp)
	if err != nil {
		return nil, err
	}
	return SealedMemfd(EarlyMemfdName, b)
}

// EarlyContent is the content of the early filter's memory file (the
// program and its load flags, earlyMagic first): the program from the
// seccomp cache under root when it holds it, else made and cached.
func EarlyContent(root string, sp *Filters) ([]byte, error) {
	profile, err := json.Marshal(sp.Early)
	if err != nil {
		return nil, fmt.Errorf("encoding the profile: %w", err)
	}
	major, minor, micro := libseccomp.GetLibraryVersion()
	key := Key([]byte(earlyFilterVersion), []byte(goruntime.GOARCH),
		fmt.Appendf(nil, "libseccomp %d.%d.%d", major, minor, micro), []byte(runcVersion()), profile)
	cache := NewCache(root)
	prog := cache.Get(key)
	if prog == nil {
		end := trace.Step("seccomp compile")
		if prog, err = ExportProgram(profile); err != nil {
			return nil, err
		}
		end()
		// The cache only saves time: a pod starts as well without it.
		_ = cache.Put(key, prog)
	}
	var flags uint32 = unix.SECCOMP_FILTER_FLAG_TSYNC
	for _, f := range sp.Early.Flags {
		switch f {
		case specs.LinuxSeccompFlagSpecAllow:
			flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case specs.LinuxSeccompFlagLog:
			flags |= unix.SECCOMP_FILTER_FLAG_LOG
		}
	}
	return encodeEarly(flags, prog), nil
}

// runcVersion is the libcontainer module podsec was built with: its code
// makes the early program.
func runcVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/opencontainers/runc" {
				if d.Replace != nil {
					d = d.Replace
				}
				return d.Path + "@" + d.Version + " " + d.Sum
			}
		}
	}
	return "unknown"
}

// ExportProgram is seccompExport; tests replace it to see a start go on
// without an early program.
var ExportProgram = seccompExport

// ExportArg is the first argument with which podsec re-executes
// itself to make a container's early seccomp program (ExportMain).
const ExportArg = "seccomp-export"

// seccompExport makes the program of the libcontainer seccomp profile
// given as JSON with libcontainer's own code, so that it is the program
// libcontainer would load, ENOSYS stub included: podsec re-executes
// itself as ExportMain, which loads it and stops, and reads it
// back from the kernel (PTRACE_SECCOMP_GET_FILTER) before killing it.
//
// The profile is the bundle's: it may refuse the helper every system
// call after it is loaded (tgkill and exit_group with an errno), so that
// the helper can neither stop nor end. The helper is therefore taken as
// done at its first stop under one filter more than this process (its
// own SIGSTOP, or the breakpoint trap it falls back on, which needs no
// system call), and it dies with this process (PTRACE_O_EXITKILL).
func seccompExport(profile []byte) ([]byte, error) {
	// The tracer is the thread that started the tracee.
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	cmd := exec.Command("/proc/self/exe", ExportArg)
	cmd.Stdin = bytes.NewReader(profile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = []string{"GOMAXPROCS=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("seccomp export: %w", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	pid := cmd.Process.Pid
	own, err := seccompFilters("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("seccomp export: %w", err)
	}
	for first := true; ; first = false {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return nil, fmt.Errorf("seccomp export: %w", err)
		}
		if !ws.Stopped() {
			return nil, fmt.Errorf("seccomp export: the helper ended (%v): %s", ws, bytes.TrimSpace(stderr.Bytes()))
		}
		if first {
			if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_EXITKILL); err != nil {
				return nil, fmt.Errorf("seccomp export: %w", err)
			}
		}
		// The helper has loaded the profile when it runs under one
		// filter more than this process: whatever stopped it then, the
		// filter is whole (the kernel attaches it at once).
		switch n, err := seccompFilters("/proc/" + strconv.Itoa(pid) + "/status"); {
		case err != nil:
			return nil, fmt.Errorf("seccomp export: %w", err)
		case n == own+1:
			return readFilter(pid)
		case n != own:
			return nil, fmt.Errorf("seccomp export: the helper runs under %d filters, want %d", n-own, 1)
		}
		// The stop at exec, and Go's own signals: pass them on.
		sig := ws.StopSignal()
		if sig == unix.SIGTRAP || sig == unix.SIGSTOP {
			sig = 0
		}
		if err := unix.PtraceCont(pid, int(sig)); err != nil {
			return nil, fmt.Errorf("seccomp export: %w", err)
		}
	}
}

// readFilter reads the last filter a stopped tracee loaded.
func readFilter(pid int) ([]byte, error) {
	n, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), 0, 0, 0, 0)
	if errno != 0 {
		return nil, fmt.Errorf("seccomp export: PTRACE_SECCOMP_GET_FILTER: %w", errno)
	}
	if n == 0 || n*8 > MaxBytes {
		return nil, fmt.Errorf("seccomp export: a program of %d instructions", n)
	}
	insns := make([]unix.SockFilter, n)
	if _, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), 0, uintptr(unsafe.Pointer(&insns[0])), 0, 0); errno != 0 {
		return nil, fmt.Errorf("seccomp export: PTRACE_SECCOMP_GET_FILTER: %w", errno)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&insns[0])), len(insns)*8), nil
}

// ExportMain loads the libcontainer seccomp profile read as JSON
// on stdin into its main thread with libcontainer's code, then stops for
// its tracer (seccompExport). It never returns.
func ExportMain() {
	var cfg configs.Seccomp
	if err := json.NewDecoder(os.Stdin).Decode(&cfg); err != nil {
		fmt.Fprintf(os.Stderr, "reading the profile: %v\n", err)
		os.Exit(1)
	}
	if _, err := lcseccomp.InitSeccomp(&cfg); err != nil {
		fmt.Fprintf(os.Stderr, "loading the profile: %v\n", err)
		os.Exit(1)
	}
	_ = unix.Tgkill(unix.Getpid(), unix.Gettid(), unix.SIGSTOP)
	// The profile refused tgkill: a trap stops the helper for its
	// tracer without a system call (ExportMain runs in an init function,
	// on the main thread, the one traced).
	goruntime.Breakpoint()
	os.Exit(1) // only a tracer that did not read it lets it go on
}
