package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// privilegedRule refuses privileged containers.
//
// Policy: spec.privileged.
// Pod: securityContext.privileged of every container.
var privilegedRule = rule{
	name:              "privileged",
	validateContainer: validatePrivileged,
}

func validatePrivileged(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	if priv := containerSC(c).Privileged; !p.Spec.Privileged && priv != nil && *priv {
		return field.ErrorList{field.Invalid(path.Child("securityContext", "privileged"), *priv, "Privileged containers are not allowed")}
	}
	return nil
}
