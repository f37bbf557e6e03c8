//go:build linux

package memtrim

import (
	"os"
	"os/exec"
	"os/user"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestCleanReadOnlyMappings(t *testing.T) {
	const exe = "/usr/bin/podsec"
	smaps := `00400000-00403000 r--p 00000000 fe:00 12 /usr/bin/podsec
Rss:                  12 kB
Anonymous:             0 kB
00403000-00f9c000 r-xp 00003000 fe:00 12 /usr/bin/podsec
Private_Dirty:      5036 kB
Anonymous:             0 kB
00f9c000-01b9f000 r--p 00b9c000 fe:00 12 /usr/bin/podsec
Anonymous:             0 kB
01b9f000-01ba0000 r--p 0179e000 fe:00 12 /usr/bin/podsec
Private_Dirty:         4 kB
Anonymous:             4 kB
01ba0000-01c15000 rw-p 0179f000 fe:00 12 /usr/bin/podsec
Anonymous:             0 kB
01c15000-03c61000 rw-p 00000000 00:00 0
7f0000000000-7f0000010000 r-xp 00000000 fe:00 13 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
7f0000010000-7f0000020000 r--p 00000000 fe:00 14 /usr/bin/podsec (deleted)
Anonymous:             0 kB
`
	want := []mapping{{0x400000, 0x403000}, {0x403000, 0xf9c000}, {0xf9c000, 0x1b9f000}}
	if got := cleanReadOnlyMappings(smaps, exe); !reflect.DeepEqual(got, want) {
		t.Errorf("cleanReadOnlyMappings() = %x, want %x (not the written RELRO page, the writable data, other files)", got, want)
	}
}

// TestUnmapLargeFoliosKeepsRunning drops this test binary's read-only
// mappings as a supervisor does, then makes it create threads, call
// into libc (through the relocations a dropped RELRO page would lose)
// and run a process: both must still work, and the
// code must now be mapped without huge pages.
func TestUnmapLargeFoliosKeepsRunning(t *testing.T) {
	UnmapLargeFolios()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // the thread ends with the goroutine: new ones are made
			_ = strings.Repeat("x", 1<<16)
		}()
	}
	wg.Wait()
	// A call into libc through the relocations (cgo's getpwuid_r).
	if u, err := user.LookupId("0"); err != nil || u.Username != "root" {
		t.Fatalf("user.LookupId(0) after unmapLargeFolios = %v, %v", u, err)
	}
	if out, err := exec.Command("/bin/sh", "-c", "echo ok").Output(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("running a process after unmapLargeFolios: %v, %q", err, out)
	}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	code := false
	var flags string
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) == 6 && strings.Contains(fs[0], "-") {
			code = fs[5] == exe && fs[1] == "r-xp"
		}
		if code && len(fs) > 0 && fs[0] == "VmFlags:" {
			flags = line
		}
	}
	if !strings.Contains(flags, " nh") {
		t.Errorf("the code mapping's flags after unmapLargeFolios: %q, want nh (no huge pages)", flags)
	}
}
