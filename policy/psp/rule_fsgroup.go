package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fsGroupRule is the fsGroup strategy.
//
// Policy: spec.fsGroup — rule MustRunAs or MayRunAs (with ranges) or
// RunAsAny.
// Pod: spec.securityContext.fsGroup.
//
// MustRunAs gives a pod with no fsGroup the minimum of the first range and
// requires one in the ranges; MayRunAs never defaults and checks only an
// fsGroup that is set.
var fsGroupRule = rule{
	name: "fsgroup",
	build: func(p *PodSecurityPolicy) error {
		return buildGroup("FSGroup", string(p.Spec.FSGroup.Rule), p.Spec.FSGroup.Ranges)
	},
	defaultPod:  defaultFSGroup,
	validatePod: validateFSGroup,
}

func defaultFSGroup(p *PodSecurityPolicy, pod *corev1.Pod) {
	if podSC(pod).FSGroup != nil {
		return
	}
	if gid := generateGroup(string(p.Spec.FSGroup.Rule), p.Spec.FSGroup.Ranges); gid != nil {
		ensurePodSC(pod).FSGroup = gid
	}
}

func validateFSGroup(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList {
	var groups []int64
	if gid := podSC(pod).FSGroup; gid != nil {
		groups = []int64{*gid}
	}
	return validateGroups(fsGroupPath, string(p.Spec.FSGroup.Rule), p.Spec.FSGroup.Ranges, groups)
}
