package ocispec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// minOOMScoreAdj is the lowest oom_score_adj a container may ask for: the
// kubelet's own range for pods goes down to -998 (the sandbox; -997 for
// Guaranteed containers), below it are the node's daemons (-999) and the
// unkillable (-1000).
const minOOMScoreAdj = -998

// checkScheduling: a pod cannot put itself before the node's own
// processes for memory, CPU or I/O; Pod Security Standards have no rule
// because a pod has no such field, and the runtime sets them with its own
// privileges.
//
// Spec: process.oomScoreAdj (allowed: -998 to 1000), process.scheduler
// (allowed: SCHED_OTHER, SCHED_BATCH, SCHED_IDLE with a nice value of 0 or
// more; the real-time SCHED_FIFO, SCHED_RR and SCHED_DEADLINE can starve
// the node's CPUs) and process.ioPriority (allowed: the best-effort and
// idle classes, not IOPRIO_CLASS_RT).
func checkScheduling(in *input) []Violation {
	p := in.proc
	if p == nil {
		return nil
	}
	var vs []Violation
	if a := p.OOMScoreAdj; a != nil && (*a < minOOMScoreAdj || *a > 1000) {
		vs = append(vs, Violation{Field: in.field + ".oomScoreAdj", What: fmt.Sprint(*a),
			Reason: fmt.Sprintf("oom_score_adj outside %d..1000", minOOMScoreAdj)})
	}
	if s := p.Scheduler; s != nil {
		switch s.Policy {
		case specs.SchedOther, specs.SchedBatch, specs.SchedIdle:
			if s.Nice < 0 {
				vs = append(vs, Violation{Field: in.field + ".scheduler.nice", What: fmt.Sprint(s.Nice),
					Reason: "priority over the node's processes"})
			}
		default:
			vs = append(vs, Violation{Field: in.field + ".scheduler.policy", What: fmt.Sprintf("%q", s.Policy),
				Reason: "priority over the node's processes"})
		}
	}
	if io := p.IOPriority; io != nil && io.Class != specs.IOPRIO_CLASS_BE && io.Class != specs.IOPRIO_CLASS_IDLE {
		vs = append(vs, Violation{Field: in.field + ".ioPriority.class", What: fmt.Sprintf("%q", io.Class),
			Reason: "priority over the node's processes"})
	}
	return vs
}
