package admission

import (
	"reflect"
	"testing"

	"github.com/podsec/podsec/policy/psp"
)

// TestIndexed admits the store benchmark's requests with the objects
// indexed once and indexed on every call, in every phase, and wants the
// same decisions, whether every policy is tried (Explain) or not.
func TestIndexed(t *testing.T) {
	objs := storeObjects(t)
	ix := objs.Indexed()
	for _, tc := range storeCases(t) {
		for _, phase := range []Phase{AllPhases, Mutating, Validating} {
			req := tc.req
			req.Phase = phase
			explain := req
			explain.Explain = true
			got, want := Admit(req, ix), Admit(explain, objs)
			if phase != Validating {
				checkStoreCase(t, tc, got)
			}
			if errText(got.Err) != errText(want.Err) || !reflect.DeepEqual(got.Pod, want.Pod) || got.Policy != want.Policy ||
				!reflect.DeepEqual(got.Warnings, want.Warnings) || !reflect.DeepEqual(got.AuditAnnotations, want.AuditAnnotations) {
				t.Errorf("Admit(%s, phase %d) with indexed objects = %+v, want %+v", tc.name, phase, got, want)
			}
			if len(want.Policies) != len(ix.PodSecurityPolicies) && phase != Validating {
				t.Errorf("Admit(%s, phase %d, Explain) tried %d policies, want all %d", tc.name, phase, len(want.Policies), len(ix.PodSecurityPolicies))
			}
		}
	}
}

// TestIndexedReplacedSlice: objects whose policies are replaced after
// Indexed are indexed again, not decided with the old index.
func TestIndexedReplacedSlice(t *testing.T) {
	objs := Objects{RBAC: everyoneMayUse()}
	objs.PodSecurityPolicies = []*psp.PodSecurityPolicy{policy(t, seedDefaultPolicy)}
	ix := objs.Indexed()
	req := Request{Pod: podWith(t, `{containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`), User: alice}
	if res := Admit(req, ix); res.Allowed {
		t.Fatalf("Admit(privileged pod, seed policy) allowed by %q", res.Policy)
	}
	ix.PodSecurityPolicies = append(ix.PodSecurityPolicies, policy(t, anyPolicy("any")))
	if res := Admit(req, ix); !res.Allowed || res.Policy != "any" {
		t.Errorf("Admit(privileged pod, policy added after Indexed) = allowed %v by %q (%v), want allowed by any", res.Allowed, res.Policy, res.Err)
	}
}
