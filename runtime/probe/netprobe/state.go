package netprobe

// State is a probe's standing between attempts, as the kubelet's prober
// worker keeps it: the reported result and the run of equal attempts
// that may change it.
type State struct {
	// Result is the reported state.
	Result Result
	// Last is the last attempt's result, Warning folded into Success.
	Last Result
	// Run is how many attempts in a row gave Last.
	Run int
}

// Initial is the state of a new probe of kind k: Failure (not ready) for
// readiness, Success for liveness, Unknown for startup. It is not
// reported.
func Initial(k Kind) State {
	switch k {
	case Readiness:
		return State{Result: Failure}
	case Liveness:
		return State{Result: Success}
	}
	return State{Result: Unknown}
}

// Observe counts an attempt's result against the thresholds and reports
// whether the state changed, and whether the probe goes on: a liveness or
// startup probe reported failed ends (the kubelet holds it until the
// container restarts), and so does a startup probe that succeeded. An
// Unknown result (a probe error) is thrown away, as the kubelet does.
func (s *State) Observe(res Result, kind Kind, successThreshold, failureThreshold int32) (changed, more bool) {
	switch res {
	case Success, Warning:
		res = Success
	case Failure:
	default:
		return false, true
	}
	if s.Last == res {
		s.Run++
	} else {
		s.Last, s.Run = res, 1
	}
	if (res == Failure && s.Run < int(failureThreshold)) || (res == Success && s.Run < int(successThreshold)) {
		return false, true
	}
	changed = s.Result != res
	s.Result = res
	switch {
	case kind != Readiness && res == Failure:
		return changed, false
	case kind == Startup && res == Success:
		return changed, false
	}
	return changed, true
}
