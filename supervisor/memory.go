package supervisor

import "runtime/debug"

// steadyGCPercent is the supervisor's GOGC once its pod runs. Its live
// heap is then about 1 MiB, and Go's minimum heap goal (4 MiB at the
// default GOGC of 100, scaled by GOGC) would let it grow to four times
// that between collections, in every supervisor of the node.
const steadyGCPercent = 25

// Settle shapes a supervisor process for the long, mostly idle watch of
// its pod, once the pod runs: a smaller heap goal, the start-up's heap
// given back to the kernel, and the binary's code and read-only data
// mapped again page by page rather than in 2 MiB blocks (see
// unmapLargeFolios). It changes process-wide settings: only the
// supervise command calls it, in the supervisor's own process.
func Settle() {
	debug.SetGCPercent(steadyGCPercent)
	debug.FreeOSMemory()
	unmapLargeFolios()
}
