package psp

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// userRule is the runAsUser strategy.
//
// Policy: spec.runAsUser — rule MustRunAs (with ranges), MustRunAsNonRoot or
// RunAsAny.
// Pod: securityContext.runAsUser and securityContext.runAsNonRoot of every
// container, the pod's spec.securityContext ones standing in for a
// container that sets none.
//
// MustRunAs gives a container with no runAsUser the minimum of the first
// range and requires a runAsUser in the ranges. MustRunAsNonRoot sets
// runAsNonRoot: true on a container that sets neither field, and refuses
// runAsNonRoot: false and runAsUser: 0.
var userRule = rule{
	name:              "user",
	build:             buildUser,
	defaultContainer:  defaultUser,
	validateContainer: validateUser,
}

func buildUser(p *PodSecurityPolicy) error {
	switch o := p.Spec.RunAsUser; o.Rule {
	case RunAsUserStrategyMustRunAs:
		if len(o.Ranges) == 0 {
			return errors.New("MustRunAs requires at least one range")
		}
	case RunAsUserStrategyMustRunAsNonRoot, RunAsUserStrategyRunAsAny:
	default:
		return fmt.Errorf("Unrecognized RunAsUser strategy type %s", o.Rule)
	}
	return nil
}

func defaultUser(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container) {
	o := p.Spec.RunAsUser
	if o.Rule == RunAsUserStrategyMustRunAs && effectiveRunAsUser(pod, c) == nil {
		ensureContainerSC(c).RunAsUser = ptrTo(o.Ranges[0].Min)
	}
	// The marker tells the kubelet to check the image's user when the pod
	// names none.
	if o.Rule == RunAsUserStrategyMustRunAsNonRoot && effectiveRunAsNonRoot(pod, c) == nil && effectiveRunAsUser(pod, c) == nil {
		ensureContainerSC(c).RunAsNonRoot = ptrTo(true)
	}
}

func validateUser(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	scPath := func() *field.Path { return path.Child("securityContext") }
	uid := effectiveRunAsUser(pod, c)
	switch o := p.Spec.RunAsUser; o.Rule {
	case RunAsUserStrategyMustRunAs:
		if uid == nil {
			return field.ErrorList{field.Required(scPath().Child("runAsUser"), "")}
		}
		if !idRangesAllow(o.Ranges, *uid) {
			return field.ErrorList{field.Invalid(scPath().Child("runAsUser"), *uid, fmt.Sprintf("must be in the ranges: %v", o.Ranges))}
		}
	case RunAsUserStrategyMustRunAsNonRoot:
		nonRoot := effectiveRunAsNonRoot(pod, c)
		switch {
		case nonRoot == nil && uid == nil:
			return field.ErrorList{field.Required(scPath().Child("runAsNonRoot"), "must be true")}
		case nonRoot != nil && !*nonRoot:
			return field.ErrorList{field.Invalid(scPath().Child("runAsNonRoot"), *nonRoot, "must be true")}
		case uid != nil && *uid == 0:
			return field.ErrorList{field.Invalid(scPath().Child("runAsUser"), *uid, "running with the root UID is forbidden")}
		}
	}
	return nil
}
