package runtime

import (
	"runtime/debug"
	"testing"
)

// TestPauseGC: concurrent starts pause the collector once and the last
// to end restores the process's settings.
func TestPauseGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	pct := debug.SetGCPercent(100)
	defer debug.SetGCPercent(pct)
	a := pauseGC()
	b := pauseGC()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent during two starts = %d, want -1 (off)", got)
	}
	a()
	a() // a second call does nothing
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent with one start left = %d, want -1 (off)", got)
	}
	b()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent after both starts = %d, want 100", got)
	}
	if lim := debug.SetMemoryLimit(-1); lim == startHeapLimit {
		t.Errorf("memory limit after both starts = %d, want the process's own", lim)
	}
}
