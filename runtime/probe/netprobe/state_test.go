package netprobe

import (
	"slices"
	"testing"
)

func TestObserve(t *testing.T) {
	tests := []struct {
		name       string
		kind       Kind
		from       State
		succ, fail int32
		results    []Result
		wantChange []bool
		wantMore   []bool
		want       Result
	}{
		{name: "readiness needs successThreshold passes", kind: Readiness, from: Initial(Readiness), succ: 2, fail: 3,
			results: []Result{Success, Success}, wantChange: []bool{false, true}, wantMore: []bool{true, true}, want: Success},
		{name: "readiness flips after failureThreshold and goes on", kind: Readiness, from: State{Result: Success, Last: Success, Run: 5}, succ: 1, fail: 2,
			results: []Result{Failure, Failure, Failure}, wantChange: []bool{false, true, false}, wantMore: []bool{true, true, true}, want: Failure},
		{name: "a pass breaks a run of failures", kind: Liveness, from: Initial(Liveness), succ: 1, fail: 2,
			results: []Result{Failure, Success, Failure}, wantChange: []bool{false, false, false}, wantMore: []bool{true, true, true}, want: Success},
		{name: "liveness ends at its failure", kind: Liveness, from: State{Result: Success, Last: Failure, Run: 2}, succ: 1, fail: 3,
			results: []Result{Failure}, wantChange: []bool{true}, wantMore: []bool{false}, want: Failure},
		{name: "unknown is thrown away", kind: Liveness, from: State{Result: Success, Last: Failure, Run: 2}, succ: 1, fail: 3,
			results: []Result{Unknown, Unknown}, wantChange: []bool{false, false}, wantMore: []bool{true, true}, want: Success},
		{name: "warning counts as success; startup ends", kind: Startup, from: Initial(Startup), succ: 1, fail: 3,
			results: []Result{Warning}, wantChange: []bool{true}, wantMore: []bool{false}, want: Success},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.from
			var changes, mores []bool
			for _, r := range tc.results {
				c, m := s.Observe(r, tc.kind, tc.succ, tc.fail)
				changes, mores = append(changes, c), append(mores, m)
			}
			if !slices.Equal(changes, tc.wantChange) || !slices.Equal(mores, tc.wantMore) || s.Result != tc.want {
				t.Errorf("Observe(%v) from %+v: changed %v more %v result %v, want %v %v %v",
					tc.results, tc.from, changes, mores, s.Result, tc.wantChange, tc.wantMore, tc.want)
			}
		})
	}
}
