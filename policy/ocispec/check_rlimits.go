package ocispec

import "fmt"

// rlimitTypes are the resource limits Linux knows.
var rlimitTypes = set(
	"RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS",
	"RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
	"RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
)

// checkRlimits: resource limits bound the container's own processes (the
// node's resources are the cgroup's to bound), so Pod Security Standards
// have no rule and any value is allowed but two: RLIMIT_NICE and
// RLIMIT_RTPRIO let the process raise its priority above the node's
// processes (nice below 0, real-time), and a spec must make sense.
//
// Spec: process.rlimits. Allowed: the known RLIMIT_* types, each once,
// soft at most hard, RLIMIT_NICE up to 20 (nice 0) and RLIMIT_RTPRIO 0.
func checkRlimits(in *input) []Violation {
	if in.proc == nil {
		return nil
	}
	var vs []Violation
	seen := map[string]bool{}
	for i, r := range in.proc.Rlimits {
		field := fmt.Sprintf("%s.rlimits[%d]", in.field, i)
		switch {
		case !rlimitTypes[r.Type]:
			vs = append(vs, Violation{Field: field + ".type", What: fmt.Sprintf("%q", r.Type), Reason: "unknown rlimits"})
		case seen[r.Type]:
			vs = append(vs, Violation{Field: field + ".type", What: fmt.Sprintf("%q twice", r.Type), Reason: "unknown rlimits"})
		case r.Soft > r.Hard:
			vs = append(vs, Violation{Field: field, What: fmt.Sprintf("%s soft %d above hard %d", r.Type, r.Soft, r.Hard), Reason: "unknown rlimits"})
		case r.Type == "RLIMIT_NICE" && r.Hard > 20, r.Type == "RLIMIT_RTPRIO" && r.Hard > 0:
			vs = append(vs, Violation{Field: field, What: fmt.Sprintf("%s hard %d", r.Type, r.Hard), Reason: "priority over the node's processes"})
		}
		seen[r.Type] = true
	}
	return vs
}
