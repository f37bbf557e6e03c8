package memtrim

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// UnmapLargeFolios has the kernel map the running binary's code and
// read-only data page by page from now on, and drops what is mapped of
// them. The page cache holds the binary in large folios, and a fault maps
// a whole 2 MiB folio: a process that has touched one function of a
// block holds the block (for the podsec supervisor, 24 MiB of the 35 MiB
// binary, against about 12 MiB touched page by page). Only mappings that
// are not writable and hold no page of their own are dropped (madvise
// MADV_DONTNEED): their pages come back from the page cache, unchanged,
// when touched again.
func UnmapLargeFolios() { unmapReadOnly("/proc/self/smaps") }

// UnmapStatic is UnmapLargeFolios for a static binary without
// relocations (CGO_ENABLED=0), whose read-only mappings are never
// written: it reads the short /proc/self/maps, not smaps, whose size
// would grow a small process's heap for good.
func UnmapStatic() { unmapReadOnly("/proc/self/maps") }

// unmapReadOnly drops the clean read-only mappings of the running binary
// that the maps or smaps file lists.
func unmapReadOnly(maps string) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	b, err := os.ReadFile(maps)
	if err != nil {
		return
	}
	for _, m := range cleanReadOnlyMappings(string(b), exe) {
		if madvise(m.start, m.end-m.start, unix.MADV_NOHUGEPAGE) == nil {
			_ = madvise(m.start, m.end-m.start, unix.MADV_DONTNEED)
		}
	}
}

// mapping is an address range of /proc/PID/smaps.
type mapping struct{ start, end uintptr }

// cleanReadOnlyMappings are the mappings of the file path in an smaps
// text that are not writable and hold no page of their own (no anonymous copy). A written
// one (the loader's relocated RELRO page, made read-only afterwards)
// would come back with the file's bytes in place of its relocations.
func cleanReadOnlyMappings(smaps, path string) []mapping {
	var out []mapping
	var cur *mapping
	for _, line := range strings.Split(smaps, "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if lo, hi, isRange := strings.Cut(fs[0], "-"); isRange && len(fs) >= 5 {
			if cur != nil {
				out = append(out, *cur)
			}
			cur = nil
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil && len(fs) == 6 && fs[5] == path && !strings.Contains(fs[1], "w") {
				cur = &mapping{uintptr(start), uintptr(end)}
			}
			continue
		}
		// A page written through a private mapping is anonymous (its
		// copy); Private_Dirty also counts the page cache's dirty pages.
		if cur != nil && fs[0] == "Anonymous:" && (len(fs) < 2 || fs[1] != "0") {
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

func madvise(addr, length uintptr, advice int) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, addr, length, uintptr(advice)); e != 0 {
		return e
	}
	return nil
}
