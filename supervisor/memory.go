package supervisor

import "github.com/podsec/podsec/internal/memtrim"

// steadyGCPercent is the supervisor's GOGC once its pod runs: its live
// heap is then about 1 MiB.
const steadyGCPercent = 25

// Settle shapes a supervisor process for the long, mostly idle watch of
// its pod, once the pod runs (memtrim.Settle). It changes process-wide
// settings: only the supervise command calls it, in the supervisor's own
// process.
func Settle() { memtrim.Settle(steadyGCPercent) }
