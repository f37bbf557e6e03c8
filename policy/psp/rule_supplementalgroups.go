package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// supplementalGroupsRule is the supplementalGroups strategy.
//
// Policy: spec.supplementalGroups — rule MustRunAs or MayRunAs (with
// ranges) or RunAsAny.
// Pod: spec.securityContext.supplementalGroups.
//
// MustRunAs gives a pod whose list is unset (nil; an empty list counts as
// set) the minimum of the first range, and requires at least one group, all
// in the ranges; MayRunAs never defaults and checks the groups that are set.
var supplementalGroupsRule = rule{
	name: "supplementalgroups",
	build: func(p *PodSecurityPolicy) error {
		return buildGroup("SupplementalGroups", string(p.Spec.SupplementalGroups.Rule), p.Spec.SupplementalGroups.Ranges)
	},
	defaultPod:  defaultSupplementalGroups,
	validatePod: validateSupplementalGroups,
}

func defaultSupplementalGroups(p *PodSecurityPolicy, pod *corev1.Pod) {
	if podSC(pod).SupplementalGroups != nil {
		return
	}
	if gid := generateGroup(string(p.Spec.SupplementalGroups.Rule), p.Spec.SupplementalGroups.Ranges); gid != nil {
		ensurePodSC(pod).SupplementalGroups = []int64{*gid}
	}
}

func validateSupplementalGroups(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList {
	o := p.Spec.SupplementalGroups
	return validateGroups(supplementalGroupsPath, string(o.Rule), o.Ranges, podSC(pod).SupplementalGroups)
}
