package probe

import "github.com/podsec/podsec/runtime/probe/netprobe"

// Result is the outcome of a probe, as the kubelet's probe.Result (see
// netprobe, which podsec-monitor shares).
type Result = netprobe.Result

// Results of a probe.
const (
	Unknown = netprobe.Unknown
	Success = netprobe.Success
	Warning = netprobe.Warning
	Failure = netprobe.Failure
)

// Kind is the kind of a probe.
type Kind = netprobe.Kind

// Kinds of probes.
const (
	Liveness  = netprobe.Liveness
	Readiness = netprobe.Readiness
	Startup   = netprobe.Startup
)
