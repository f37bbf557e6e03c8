package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// privilegeEscalationRule governs allowPrivilegeEscalation (no_new_privs).
//
// Policy: spec.defaultAllowPrivilegeEscalation and
// spec.allowPrivilegeEscalation (unset is true).
// Pod: securityContext.allowPrivilegeEscalation of every container.
//
// A container that leaves the field unset gets defaultAllowPrivilegeEscalation
// if the policy sets it, else false if the policy disallows escalation. Such
// a policy then refuses a container that allows escalation, explicitly or by
// leaving the field unset.
var privilegeEscalationRule = rule{
	name:              "privilegeescalation",
	defaultContainer:  defaultPrivilegeEscalation,
	validateContainer: validatePrivilegeEscalation,
}

func defaultPrivilegeEscalation(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container) {
	if containerSC(c).AllowPrivilegeEscalation != nil {
		return
	}
	switch {
	case p.Spec.DefaultAllowPrivilegeEscalation != nil:
		ensureContainerSC(c).AllowPrivilegeEscalation = ptrTo(*p.Spec.DefaultAllowPrivilegeEscalation)
	case !p.Spec.allowsPrivilegeEscalation():
		ensureContainerSC(c).AllowPrivilegeEscalation = ptrTo(false)
	}
}

func validatePrivilegeEscalation(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	ape := containerSC(c).AllowPrivilegeEscalation
	if !p.Spec.allowsPrivilegeEscalation() && (ape == nil || *ape) {
		return field.ErrorList{field.Invalid(path.Child("securityContext", "allowPrivilegeEscalation"), ape, "Allowing privilege escalation for containers is not allowed")}
	}
	return nil
}
