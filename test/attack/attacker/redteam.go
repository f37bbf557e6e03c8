package main

import (
	"errors"
	"fmt"
	"os"
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
