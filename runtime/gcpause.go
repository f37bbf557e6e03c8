package runtime

import (
	"os"
	"runtime/debug"
	"sync"
)

// startHeapLimit bounds the heap while the collector is paused for a
// pod's start: far above what a start allocates (a few MiB: the plan,
// specs, libcontainer's state), so the collector runs only if something
// goes wrong.
const startHeapLimit = 256 << 20

// gcPause counts the starts under way in this process (an embedder may
// start pods concurrently) and keeps the settings to restore.
var gcPause struct {
	sync.Mutex
	n   int
	pct int
	lim int64
}

// pauseGC turns the garbage collector off while a pod starts, unless the
// environment sets GOGC or GOMEMLIMIT: a start allocates past the 4 MiB
// of the first collection, which then takes several milliseconds of CPU
// from the sandbox and the container's init starting beside it. The
// heap stays bounded by startHeapLimit. The returned function restores
// the settings once the last concurrent start is done.
func pauseGC() (resume func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gcPause.Lock()
	if gcPause.n == 0 {
		gcPause.pct = debug.SetGCPercent(-1)
		gcPause.lim = debug.SetMemoryLimit(startHeapLimit)
	}
	gcPause.n++
	gcPause.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gcPause.Lock()
			defer gcPause.Unlock()
			if gcPause.n--; gcPause.n == 0 {
				debug.SetMemoryLimit(gcPause.lim)
				debug.SetGCPercent(gcPause.pct)
			}
		})
	}
}
