package runtime

import (
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// sysctlWriteError matches libcontainer's error for a sysctl the kernel
// refused to take (it comes from the init as text): its name and value.
var sysctlWriteError = regexp.MustCompile(`failed to write sysctl (\S+) = "((?:[^"\\]|\\.)*)": (.*)$`)

// startError names the pod's field behind err, a container's failed
// start, when it is one: a sysctl whose value the kernel refused, which
// Kubernetes' validation leaves to the node (it checks names only), is
// spec.securityContext.sysctls[i].value. Otherwise it returns nil.
func startError(pod *corev1.Pod, err error) error {
	m := sysctlWriteError.FindStringSubmatch(err.Error())
	if m == nil || pod.Spec.SecurityContext == nil {
		return nil
	}
	for i, s := range pod.Spec.SecurityContext.Sysctls {
		if s.Name == m[1] || strings.ReplaceAll(s.Name, "/", ".") == m[1] {
			reason := m[3]
			if j := strings.LastIndex(reason, ": "); j >= 0 {
				reason = reason[j+2:] // the errno, without the file libcontainer wrote
			}
			path := field.NewPath("spec", "securityContext", "sysctls").Index(i).Child("value")
			return field.Invalid(path, s.Value, "the node's kernel refused it: "+reason)
		}
	}
	return nil
}
