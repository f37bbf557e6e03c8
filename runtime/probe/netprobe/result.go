package netprobe

import "strconv"

// Result is the outcome of a probe, as the kubelet's probe.Result.
type Result int

const (
	// Unknown is a probe that could not run: a missing handler, an
	// unresolvable port, an exec that failed to start. A Worker ignores it.
	Unknown Result = iota
	// Success is a passing probe.
	Success
	// Warning passed with a caveat, such as an HTTP redirect to another
	// host that was not followed; it counts as Success.
	Warning
	// Failure is a failing probe.
	Failure
)

// String returns the kubelet's spelling of r.
func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Warning:
		return "warning"
	case Failure:
		return "failure"
	case Unknown:
		return "unknown"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// Kind is the kind of a probe.
type Kind int

const (
	// Liveness restarts the container on failure.
	Liveness Kind = iota
	// Readiness takes the pod out of service while failing.
	Readiness
	// Startup holds liveness and readiness until it succeeds.
	Startup
)

// String returns the kubelet's spelling of k.
func (k Kind) String() string {
	switch k {
	case Liveness:
		return "Liveness"
	case Readiness:
		return "Readiness"
	case Startup:
		return "Startup"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}
