package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// groupRule is the runAsGroup strategy.
//
// Policy: spec.runAsGroup — rule MustRunAs or MayRunAs (with ranges) or
// RunAsAny; unset is RunAsAny.
// Pod: securityContext.runAsGroup of every container, the pod's
// spec.securityContext.runAsGroup standing in for a container that sets
// none.
//
// MustRunAs gives a container with no runAsGroup the minimum of the first
// range and requires one in the ranges; MayRunAs never defaults and checks
// only a runAsGroup that is set. As in 1.24 the error path is the
// container's securityContext itself, not its runAsGroup field.
var groupRule = rule{
	name:              "group",
	build:             buildRunAsGroup,
	defaultContainer:  defaultRunAsGroup,
	validateContainer: validateRunAsGroup,
}

func buildRunAsGroup(p *PodSecurityPolicy) error {
	if o := p.Spec.RunAsGroup; o != nil {
		return buildGroup("RunAsGroup", string(o.Rule), o.Ranges)
	}
	return nil
}

func defaultRunAsGroup(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container) {
	o := p.Spec.RunAsGroup
	if o == nil || effectiveRunAsGroup(pod, c) != nil {
		return
	}
	if gid := generateGroup(string(o.Rule), o.Ranges); gid != nil {
		ensureContainerSC(c).RunAsGroup = gid
	}
}

func validateRunAsGroup(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	o := p.Spec.RunAsGroup
	if o == nil || o.Rule == RunAsGroupStrategyRunAsAny {
		return nil
	}
	var groups []int64
	if gid := effectiveRunAsGroup(pod, c); gid != nil {
		groups = []int64{*gid}
	}
	return validateGroups(path.Child("securityContext"), string(o.Rule), o.Ranges, groups)
}
