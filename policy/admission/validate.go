package admission

import (
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podsec/podsec/policy/psp"
)

// ErrUnableToValidate: no usable policy admits the pod as it is, in the
// validating phase. The refusal reads as 1.24.17's Validate worded it:
//
//	pods "web" is forbidden: PodSecurityPolicy: unable to validate pod: [...]
var ErrUnableToValidate = errors.New("unable to validate pod")

// validateReason is the Reason of a validating phase's *psp.ForbiddenError;
// its text carries the errors, as 1.24's Validate printed them.
type validateReason struct{ errs field.ErrorList }

func (r *validateReason) Error() string { return fmt.Sprintf("%s: %v", ErrUnableToValidate, r.errs) }
func (r *validateReason) Unwrap() error { return ErrUnableToValidate }

// validatePSP is the Validate method of 1.24's PodSecurityPolicy plugin:
// the pod must be admitted unchanged by a policy the requester may use.
// The policy named in the pod's kubernetes.io/psp annotation is tried
// first, then the others by name. A refusal lists the errors of the usable
// policies only, as Admit's does. Without explain, the policies the
// requester may not use are not tried.
func validatePSP(pod *corev1.Pod, set *psp.Set, usable func(*psp.PodSecurityPolicy) bool, explain bool) (string, []psp.Result, error) {
	hint := pod.Annotations[psp.ValidatedPSPAnnotation]
	order := make([]int, 0, set.Len())
	for i := range set.Len() {
		if set.Policy(i).Name == hint {
			order = append(order, i)
		}
	}
	for i := range set.Len() {
		if set.Policy(i).Name != hint {
			order = append(order, i)
		}
	}

	t := psp.NewTrial(pod)
	var results []psp.Result
	providers := 0
	for _, i := range order {
		if set.Err(i) == nil {
			providers++
		}
		ok := usable(set.Policy(i))
		if !explain && (!ok || set.Err(i) != nil) {
			continue
		}
		r := set.Try(t, i)
		r.Usable = ok
		results = append(results, r)
		if r.Err != nil {
			continue
		}
		if r.Usable && !r.Mutated && len(r.Errors) == 0 {
			return r.Policy, results, nil
		}
	}
	if providers == 0 {
		return "", results, &psp.ForbiddenError{Pod: podName(pod), Reason: psp.ErrNoProviders}
	}
	errs := field.ErrorList{}
	for _, r := range results {
		if r.Usable {
			errs = append(errs, r.Errors...)
		}
	}
	return "", results, &psp.ForbiddenError{Pod: podName(pod), Reason: &validateReason{errs: errs}, Errors: errs}
}

// podName is the name admission.NewForbidden gives a pod.
func podName(pod *corev1.Pod) string {
	switch {
	case pod.Name != "":
		return pod.Name
	case pod.GenerateName != "":
		return pod.GenerateName
	}
	return "Unknown"
}

// onlyGCFieldsChanged is rbacregistry.IsOnlyMutatingGCFields, which 1.24's
// plugin used to let the garbage collector update ownerReferences and
// finalizers of a pod no policy admits any more. Like it, it also ignores
// managedFields and selfLink: the API server rewrites managedFields on every
// write, so without that no real update would ever count as GC-only.
func onlyGCFieldsChanged(pod, old *corev1.Pod) bool {
	if old == nil {
		return false
	}
	cp := old.DeepCopy()
	cp.OwnerReferences = pod.OwnerReferences
	cp.Finalizers = pod.Finalizers
	cp.SelfLink = pod.SelfLink
	cp.ManagedFields = pod.ManagedFields
	return apiequality.Semantic.DeepEqual(cp, pod)
}

// significantPodUpdate is pod-security-admission's isSignificantPodUpdate:
// an update is evaluated only when it can change what runs. The mutable
// fields of a pod that matter are the images, the ephemeral containers and
// the legacy seccomp annotations.
func significantPodUpdate(pod, old *corev1.Pod) bool {
	if old == nil {
		return true
	}
	if len(pod.Spec.EphemeralContainers) != len(old.Spec.EphemeralContainers) ||
		len(pod.Spec.Containers) != len(old.Spec.Containers) ||
		len(pod.Spec.InitContainers) != len(old.Spec.InitContainers) ||
		pod.Annotations[corev1.SeccompPodAnnotationKey] != old.Annotations[corev1.SeccompPodAnnotationKey] {
		return true
	}
	changed := func(c, oc *corev1.Container) bool {
		key := corev1.SeccompContainerAnnotationKeyPrefix + c.Name
		return c.Image != oc.Image || pod.Annotations[key] != old.Annotations[key]
	}
	for i := range pod.Spec.Containers {
		if changed(&pod.Spec.Containers[i], &old.Spec.Containers[i]) {
			return true
		}
	}
	for i := range pod.Spec.InitContainers {
		if changed(&pod.Spec.InitContainers[i], &old.Spec.InitContainers[i]) {
			return true
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		c := (*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		j := slices.IndexFunc(old.Spec.EphemeralContainers, func(e corev1.EphemeralContainer) bool { return e.Name == c.Name })
		if j < 0 || changed(c, (*corev1.Container)(&old.Spec.EphemeralContainers[j].EphemeralContainerCommon)) {
			return true
		}
	}
	return false
}
