package memtrim

import "runtime/debug"

// Settle sets the process's GOGC to gcPercent, gives the heap it no
// longer uses back to the kernel and has its binary mapped page by page
// (UnmapLargeFolios). A small live heap is what an idle watcher keeps,
// and Go's minimum heap goal (4 MiB at the default GOGC of 100, scaled by
// GOGC) would otherwise let it grow to several times that between
// collections, in every such process of the node.
func Settle(gcPercent int) {
	debug.SetGCPercent(gcPercent)
	debug.FreeOSMemory()
	UnmapLargeFolios()
}
