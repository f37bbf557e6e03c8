package psp

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Set is a list of policies ready for many admissions: in name order, as
// Admit tries them, each checked by Build once. Make one per store
// generation. A Set keeps pointers to the policies, which must not change
// while it is used; it is safe for concurrent use.
type Set struct {
	policies []*PodSecurityPolicy
	// errs are Build's errors, by index of policies.
	errs []error
	// providers counts the policies Build accepts.
	providers int
}

// NewSet sorts the policies by name (a stable sort: policies of one name
// keep their order) and drops nil ones.
func NewSet(policies []*PodSecurityPolicy) *Set {
	s := &Set{policies: make([]*PodSecurityPolicy, 0, len(policies))}
	for _, p := range policies {
		if p != nil {
			s.policies = append(s.policies, p)
		}
	}
	slices.SortStableFunc(s.policies, func(a, b *PodSecurityPolicy) int { return cmp.Compare(a.Name, b.Name) })
	s.errs = make([]error, len(s.policies))
	for i, p := range s.policies {
		if s.errs[i] = Build(p); s.errs[i] == nil {
			s.providers++
		}
	}
	return s
}

// Len is the number of policies of the set.
func (s *Set) Len() int { return len(s.policies) }

// Policy is the set's i-th policy in name order.
func (s *Set) Policy(i int) *PodSecurityPolicy { return s.policies[i] }

// Err is Build's error for the set's i-th policy: nil when it can be
// tried.
func (s *Set) Err(i int) error { return s.errs[i] }

// Trial is one pod being tried against policies: the field paths its
// errors name, made once for every policy, and the scratch pod the
// policies' defaults are written into. A Trial is used by one goroutine.
type Trial struct {
	pod   *corev1.Pod
	paths []*field.Path
	// scratch is reused from one policy to the next unless an error of
	// the last policy may point into it.
	scratch *scratch
}

// NewTrial prepares pod for Try. The pod must not change while the trial
// is used.
func NewTrial(pod *corev1.Pod) *Trial {
	return &Trial{pod: pod, paths: containerPaths(pod)}
}

// Try is what the set's i-th policy makes of the trial's pod, as Admit
// judges it: Err is Build's error (the policy was not tried), Mutated
// whether its defaults change the pod, Errors the violations of the pod
// with its defaults. Usable is left for the caller. The pod is not
// changed, nor copied whole: the defaults go to a scratch copy of the
// parts they write.
func (s *Set) Try(t *Trial, i int) Result {
	p := s.policies[i]
	r := Result{Policy: p.Name, Err: s.errs[i]}
	if r.Err != nil {
		return r
	}
	if t.scratch == nil {
		t.scratch = &scratch{}
	}
	cp := t.scratch.reset(t.pod)
	applyDefaults(cp, p)
	r.Mutated = changed(t.pod, cp)
	r.Errors = validate(cp, p, t.paths)
	for _, e := range r.Errors {
		if t.scratch.holds(e.BadValue) {
			// Leave the scratch to the error.
			t.scratch = nil
			break
		}
	}
	return r
}

// Admit is the package's Admit over the set's policies.
func (s *Set) Admit(pod *corev1.Pod, usable func(*PodSecurityPolicy) bool) (*Decision, error) {
	return s.admit(pod, usable, true)
}

// Choose is Admit without trying the policies that usable rejects: the
// same decision, the same error, for a fraction of the work when the
// requester may use few of the policies. Decision.Results lists only the
// policies tried, those Build accepts and usable allows, in name order,
// up to the first that admits the pod unchanged, which wins at once (as
// in 1.24). Admit tries every policy, to say what each would have made of
// the pod.
func (s *Set) Choose(pod *corev1.Pod, usable func(*PodSecurityPolicy) bool) (*Decision, error) {
	return s.admit(pod, usable, false)
}

func (s *Set) admit(pod *corev1.Pod, usable func(*PodSecurityPolicy) bool, all bool) (*Decision, error) {
	t := NewTrial(pod)
	d := &Decision{}
	if all {
		d.Results = make([]Result, 0, len(s.policies))
	}
	unchanged, mutated := -1, -1
	for i, p := range s.policies {
		ok := usable == nil || usable(p)
		if !all && (!ok || s.errs[i] != nil) {
			continue
		}
		r := s.Try(t, i)
		r.Usable = ok
		d.Results = append(d.Results, r)
		switch {
		case r.Err != nil, !r.Usable || len(r.Errors) > 0:
		case !r.Mutated && unchanged < 0:
			unchanged = i
		case r.Mutated && mutated < 0:
			mutated = i
		}
		if unchanged >= 0 && !all {
			break // nothing after it can win
		}
	}
	if s.providers == 0 {
		// Whether or not they may be used: 1.24 made the providers
		// before it asked.
		return d, &ForbiddenError{Pod: podName(pod), Reason: ErrNoProviders}
	}
	chosen := unchanged
	if chosen < 0 {
		chosen = mutated
	}
	if chosen >= 0 {
		// The one deep copy: the chosen policy's defaults on a pod of
		// its own, as Default makes it.
		p := s.policies[chosen]
		d.Pod, d.Policy = pod.DeepCopy(), p.Name
		applyDefaults(d.Pod, p)
		if d.Pod.Annotations == nil {
			d.Pod.Annotations = map[string]string{}
		}
		d.Pod.Annotations[ValidatedPSPAnnotation] = d.Policy
		return d, nil
	}
	errs := field.ErrorList{}
	for _, r := range d.Results {
		if r.Usable {
			errs = append(errs, r.Errors...)
		}
	}
	return d, &ForbiddenError{Pod: podName(pod), Reason: ErrUnableToAdmit, Errors: errs}
}
