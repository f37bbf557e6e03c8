package logs

// tailSelector picks the records of the last n logical lines, fed records
// from the last to the first. A logical line of a stream is its partial
// records up to and including a full one; the streams interleave, so a
// stream's partial records may lie before another stream's later lines.
//
// Walking back, a full record, or the last record of a stream even if
// partial (a line the container has not ended), ends a line. Once n lines
// are counted, the next line end of a stream closes that stream; records of
// open streams still belong to counted lines.
type tailSelector struct {
	left   int64
	seen   map[string]bool
	closed map[string]bool
	picked []entry // newest first
}

func newTailSelector(n int64) *tailSelector {
	return &tailSelector{left: n, seen: map[string]bool{}, closed: map[string]bool{}}
}

func (t *tailSelector) add(e entry) {
	if t.closed[e.stream] {
		return
	}
	ends := !e.partial || !t.seen[e.stream]
	t.seen[e.stream] = true
	if ends {
		if t.left == 0 {
			t.closed[e.stream] = true
			return
		}
		t.left--
	}
	t.picked = append(t.picked, e)
}

// done reports whether no earlier record can be picked.
func (t *tailSelector) done() bool {
	if t.left > 0 {
		return false
	}
	for s := range t.seen {
		if !t.closed[s] {
			return false
		}
	}
	return true
}
