package psp

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Build reports why the policy cannot be applied to pods at all: a strategy
// rule Kubernetes does not know, or MustRunAs and MayRunAs without the ranges
// or SELinux options they need. Kubernetes accepted such a policy and then
// skipped it at admission; ValidatePolicy reports the same problems as field
// errors. The error, when not nil, wraps ErrUnusablePolicy.
func Build(p *PodSecurityPolicy) error {
	if p == nil {
		return fmt.Errorf("%w: no policy", ErrUnusablePolicy)
	}
	var errs []error
	for _, r := range rules {
		if r.build == nil {
			continue
		}
		if err := r.build(p); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &unusableError{err: utilerrors.NewAggregate(errs)}
}

// unusableError keeps the aggregate's text, the text Kubernetes logged, and
// adds the sentinel for errors.Is.
type unusableError struct{ err error }

func (e *unusableError) Error() string   { return e.err.Error() }
func (e *unusableError) Unwrap() []error { return []error{ErrUnusablePolicy, e.err} }

// Default returns a copy of the pod with the defaults of the policy filled
// in, as the 1.24 provider's MutatePod did: only fields the pod leaves unset
// are set, and for the run-as IDs the container's value or else the pod's
// counts as set. The pod itself is not changed. The error is Build's.
func Default(pod *corev1.Pod, p *PodSecurityPolicy) (*corev1.Pod, error) {
	if err := Build(p); err != nil {
		return nil, err
	}
	out := pod.DeepCopy()
	applyDefaults(out, p)
	return out, nil
}

func applyDefaults(pod *corev1.Pod, p *PodSecurityPolicy) {
	for _, r := range rules {
		if r.defaultPod != nil {
			r.defaultPod(p, pod)
		}
	}
	eachContainer(pod, func(c *corev1.Container) {
		for _, r := range rules {
			if r.defaultContainer != nil {
				r.defaultContainer(p, pod, c)
			}
		}
	})
}

// Validate lists every way the pod violates the policy, with the field
// paths and texts of Kubernetes 1.24 (ValidatePod and validateContainer of
// its provider). It does not default: validate the result of Default to
// check a pod the way admission did. A policy that Build refuses admits no
// pod; Validate then returns a single internal error naming the policy.
func Validate(pod *corev1.Pod, p *PodSecurityPolicy) field.ErrorList {
	if err := Build(p); err != nil {
		name := ""
		if p != nil {
			name = p.Name
		}
		return field.ErrorList{field.InternalError(field.NewPath("podSecurityPolicy").Key(name), err)}
	}
	return validate(pod, p, containerPaths(pod))
}

// validate is Validate of a policy Build accepts; paths are the pod's
// containerPaths.
func validate(pod *corev1.Pod, p *PodSecurityPolicy, paths []*field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	volumesDone := false
	for _, r := range rules {
		if r.validatePod != nil {
			allErrs = append(allErrs, r.validatePod(p, pod)...)
		}
		// The volume rules sit together in the table; run them volume by
		// volume when the first of them comes up.
		if r.validateVolume != nil && !volumesDone {
			volumesDone = true
			allErrs = append(allErrs, validateVolumes(p, pod)...)
		}
	}
	i := 0
	eachContainer(pod, func(c *corev1.Container) {
		for _, r := range rules {
			if r.validateContainer != nil {
				allErrs = append(allErrs, r.validateContainer(p, pod, c, paths[i])...)
			}
		}
		i++
	})
	return allErrs
}

// validateVolumes runs the volume rules for each volume in turn, stopping at
// the first that objects, as Kubernetes did.
func validateVolumes(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList {
	var allErrs field.ErrorList
	for i := range pod.Spec.Volumes {
		for _, r := range rules {
			if r.validateVolume == nil {
				continue
			}
			if errs := r.validateVolume(p, pod, i, &pod.Spec.Volumes[i]); len(errs) > 0 {
				allErrs = append(allErrs, errs...)
				break
			}
		}
	}
	return allErrs
}

// containerPaths are the field paths of the pod's init containers,
// containers and ephemeral containers, in eachContainer's order: made once
// for all the policies an admission tries.
func containerPaths(pod *corev1.Pod) []*field.Path {
	paths := make([]*field.Path, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers)+len(pod.Spec.EphemeralContainers))
	visitContainers(pod, func(_ *corev1.Container, path *field.Path) { paths = append(paths, path) })
	return paths
}

// eachContainer calls fn for every init container, container and
// ephemeral container, in that order.
func eachContainer(pod *corev1.Pod, fn func(c *corev1.Container)) {
	for i := range pod.Spec.InitContainers {
		fn(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		fn(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.EphemeralContainers {
		fn((*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

// visitContainers calls fn for every init container, container and
// ephemeral container, in that order, with its field path.
func visitContainers(pod *corev1.Pod, fn func(c *corev1.Container, path *field.Path)) {
	spec := field.NewPath("spec")
	for i := range pod.Spec.InitContainers {
		fn(&pod.Spec.InitContainers[i], spec.Child("initContainers").Index(i))
	}
	for i := range pod.Spec.Containers {
		fn(&pod.Spec.Containers[i], spec.Child("containers").Index(i))
	}
	for i := range pod.Spec.EphemeralContainers {
		fn((*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon), spec.Child("ephemeralContainers").Index(i))
	}
}
