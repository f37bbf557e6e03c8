package psp

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// seLinuxRule is the SELinux strategy.
//
// Policy: spec.seLinux — rule MustRunAs (with seLinuxOptions) or RunAsAny.
// Pod: spec.securityContext.seLinuxOptions and securityContext.seLinuxOptions
// of every container, the pod's standing in for a container that sets none.
//
// MustRunAs gives a pod with no seLinuxOptions the policy's, and requires
// user, role, type and level to equal the policy's; levels compare with
// their categories in any order ("s0:c1,c0" is "s0:c0,c1").
var seLinuxRule = rule{
	name:              "selinux",
	build:             buildSELinux,
	defaultPod:        defaultPodSELinux,
	defaultContainer:  defaultContainerSELinux,
	validatePod:       validatePodSELinux,
	validateContainer: validateContainerSELinux,
}

func buildSELinux(p *PodSecurityPolicy) error {
	switch o := p.Spec.SELinux; o.Rule {
	case SELinuxStrategyMustRunAs:
		if o.SELinuxOptions == nil {
			return errors.New("MustRunAs requires SELinuxOptions")
		}
	case SELinuxStrategyRunAsAny:
	default:
		return fmt.Errorf("Unrecognized SELinuxContext strategy type %s", o.Rule)
	}
	return nil
}

func defaultPodSELinux(p *PodSecurityPolicy, pod *corev1.Pod) {
	if p.Spec.SELinux.Rule == SELinuxStrategyMustRunAs && podSC(pod).SELinuxOptions == nil {
		ensurePodSC(pod).SELinuxOptions = p.Spec.SELinux.SELinuxOptions.DeepCopy()
	}
}

// defaultContainerSELinux only matters for a pod defaulted by another
// policy first: the pod-level default already covers every container.
func defaultContainerSELinux(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container) {
	if p.Spec.SELinux.Rule == SELinuxStrategyMustRunAs && effectiveSELinux(pod, c) == nil {
		ensureContainerSC(c).SELinuxOptions = p.Spec.SELinux.SELinuxOptions.DeepCopy()
	}
}

func validatePodSELinux(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList {
	return checkSELinux(p, podSELinuxPath, podSC(pod).SELinuxOptions)
}

func validateContainerSELinux(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	if p.Spec.SELinux.Rule != SELinuxStrategyMustRunAs {
		return nil // before the path is made
	}
	return checkSELinux(p, path.Child("securityContext", "seLinuxOptions"), effectiveSELinux(pod, c))
}

func checkSELinux(p *PodSecurityPolicy, path *field.Path, got *corev1.SELinuxOptions) field.ErrorList {
	if p.Spec.SELinux.Rule != SELinuxStrategyMustRunAs {
		return nil
	}
	if got == nil {
		return field.ErrorList{field.Required(path, "")}
	}
	want := p.Spec.SELinux.SELinuxOptions
	var allErrs field.ErrorList
	if !equalLevels(want.Level, got.Level) {
		allErrs = append(allErrs, field.Invalid(path.Child("level"), got.Level, "must be "+want.Level))
	}
	if got.Role != want.Role {
		allErrs = append(allErrs, field.Invalid(path.Child("role"), got.Role, "must be "+want.Role))
	}
	if got.Type != want.Type {
		allErrs = append(allErrs, field.Invalid(path.Child("type"), got.Type, "must be "+want.Type))
	}
	if got.User != want.User {
		allErrs = append(allErrs, field.Invalid(path.Child("user"), got.User, "must be "+want.User))
	}
	return allErrs
}

// equalLevels compares "sensitivity:categories" levels, categories as sets
// in any order.
func equalLevels(want, got string) bool {
	if want == got {
		return true
	}
	w := strings.SplitN(want, ":", 2)
	g := strings.SplitN(got, ":", 2)
	if len(w) != 2 || len(g) != 2 || w[0] != g[0] {
		return false
	}
	wc, gc := strings.Split(w[1], ","), strings.Split(g[1], ",")
	slices.Sort(wc)
	slices.Sort(gc)
	return slices.Equal(wc, gc)
}
