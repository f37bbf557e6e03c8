package admission

import (
	"testing"

	"github.com/podsec/podsec/policy/admission/admissiontest"
)

// storeObjects is admissiontest.Store: 50 policies and 200 bindings.
func storeObjects(b testing.TB) Objects {
	s := admissiontest.Store(b)
	return Objects{PodSecurityPolicies: s.PodSecurityPolicies, RBAC: s.RBAC, NamespaceLabels: s.NamespaceLabels}
}

// storeCase is one request of the store benchmarks, with what it must
// come to.
type storeCase struct {
	name       string
	req        Request
	wantPolicy string // empty: refused
}

// storeCases are admissiontest.Cases as requests.
func storeCases(b testing.TB) []storeCase {
	var out []storeCase
	for _, c := range admissiontest.Cases(b) {
		out = append(out, storeCase{name: c.Name, req: Request{User: c.User, Pod: c.Pod}, wantPolicy: c.WantPolicy})
	}
	return out
}

// BenchmarkAdmitStore measures admissions per second of three kinds of
// requests against a store of 50 policies and 200 bindings, with both
// phases (podsec admit and run) and with the mutating phase alone (the
// mutating webhook). Each request is checked once before timing.
func BenchmarkAdmitStore(b *testing.B) {
	objs := indexed(storeObjects(b))
	for _, tc := range storeCases(b) {
		for _, phase := range []struct {
			name  string
			phase Phase
		}{{"all", AllPhases}, {"psp", Mutating}} {
			b.Run(tc.name+"/"+phase.name, func(b *testing.B) {
				req := tc.req
				req.Phase = phase.phase
				checkStoreCase(b, tc, Admit(req, objs))
				b.ReportAllocs()
				for b.Loop() {
					Admit(req, objs)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "admissions/s")
			})
		}
	}
}

// BenchmarkAdmitStorePerCall is BenchmarkAdmitStore's "all" requests
// with objects that are not indexed, as a caller that reads its store for
// every request hands them: the index is made on every call.
func BenchmarkAdmitStorePerCall(b *testing.B) {
	objs := storeObjects(b)
	for _, tc := range storeCases(b) {
		b.Run(tc.name, func(b *testing.B) {
			checkStoreCase(b, tc, Admit(tc.req, objs))
			b.ReportAllocs()
			for b.Loop() {
				Admit(tc.req, objs)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "admissions/s")
		})
	}
}

// BenchmarkAdmitStoreParallel is BenchmarkAdmitStore's "all" requests
// made from every CPU at once, as a webhook serves them.
func BenchmarkAdmitStoreParallel(b *testing.B) {
	objs := indexed(storeObjects(b))
	for _, tc := range storeCases(b) {
		b.Run(tc.name, func(b *testing.B) {
			checkStoreCase(b, tc, Admit(tc.req, objs))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					Admit(tc.req, objs)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "admissions/s")
		})
	}
}

func checkStoreCase(b testing.TB, tc storeCase, res Result) {
	b.Helper()
	switch {
	case tc.wantPolicy == "" && res.Allowed:
		b.Fatalf("Admit(%s) allowed by %q, want refused", tc.name, res.Policy)
	case tc.wantPolicy != "" && (!res.Allowed || res.Policy != tc.wantPolicy):
		b.Fatalf("Admit(%s) = allowed %v by %q (%v), want allowed by %q", tc.name, res.Allowed, res.Policy, res.Err, tc.wantPolicy)
	}
}
