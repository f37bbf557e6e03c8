package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Decision is the outcome of Admit, kept whole for explainers.
type Decision struct {
	// Pod is the admitted pod: a copy with the chosen policy's defaults and
	// the kubernetes.io/psp annotation. Nil when the pod is refused.
	Pod *corev1.Pod
	// Policy is the name of the policy that admitted the pod.
	Policy string
	// Results has one entry per policy, in name order.
	Results []Result
}

// Result is what one policy made of the pod.
type Result struct {
	Policy string
	// Usable is the verdict of Admit's usable function (RBAC "use").
	Usable bool
	// Err is Build's error: the policy could not be applied and was not
	// tried.
	Err error
	// Mutated reports that the policy's defaults changed the pod.
	Mutated bool
	// Errors are the violations of the pod with the policy's defaults.
	Errors field.ErrorList
}

// Admits reports whether the policy admits the pod, usable or not.
func (r Result) Admits() bool { return r.Err == nil && len(r.Errors) == 0 }

// Admit chooses a policy for a pod being created, as the PodSecurityPolicy
// admission plugin of Kubernetes 1.24 did. The policies are tried in name
// order, each on its own copy of the pod, defaults first, then validation.
// The first usable policy that admits the pod without changing it wins;
// failing that, the first usable policy that admits it with its defaults.
// usable reports whether the pod's creator may use a policy; nil means
// every policy is usable.
//
// A refusal is a *ForbiddenError with the 1.24 message. With no policy that
// can be applied, it is ErrNoProviders. Otherwise it is ErrUnableToAdmit,
// listing the errors of the usable policies only: policies the creator may
// not use are kept out of the message, so that it reads "unable to admit
// pod: []" when none is usable, as in 1.24. The Decision is returned in
// both cases.
func Admit(pod *corev1.Pod, policies []*PodSecurityPolicy, usable func(*PodSecurityPolicy) bool) (*Decision, error) {
	return NewSet(policies).Admit(pod, usable)
}

// podName is the name admission.NewForbidden gave a pod.
func podName(pod *corev1.Pod) string {
	switch {
	case pod.Name != "":
		return pod.Name
	case pod.GenerateName != "":
		return pod.GenerateName
	}
	return "Unknown"
}
