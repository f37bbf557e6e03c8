package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// hostNamespacesRule restricts the host namespaces a pod joins.
//
// Policy: spec.hostNetwork, spec.hostPID, spec.hostIPC.
// Pod: spec.hostNetwork, spec.hostPID, spec.hostIPC. The errors name
// spec.securityContext.hostNetwork and so on, where Kubernetes' internal
// types keep these fields.
var hostNamespacesRule = rule{
	name:        "hostnamespaces",
	validatePod: validateHostNamespaces,
}

func validateHostNamespaces(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList {
	path := podSCPath
	var allErrs field.ErrorList
	if !p.Spec.HostNetwork && pod.Spec.HostNetwork {
		allErrs = append(allErrs, field.Invalid(path.Child("hostNetwork"), true, "Host network is not allowed to be used"))
	}
	if !p.Spec.HostPID && pod.Spec.HostPID {
		allErrs = append(allErrs, field.Invalid(path.Child("hostPID"), true, "Host PID is not allowed to be used"))
	}
	if !p.Spec.HostIPC && pod.Spec.HostIPC {
		allErrs = append(allErrs, field.Invalid(path.Child("hostIPC"), true, "Host IPC is not allowed to be used"))
	}
	return allErrs
}
