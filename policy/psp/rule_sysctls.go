package psp

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// sysctlsRule restricts the sysctls a pod sets.
//
// Policy: spec.forbiddenSysctls and spec.allowedUnsafeSysctls, names or
// "prefix*" patterns ("*" alone is every sysctl).
// Pod: spec.securityContext.sysctls[].name.
//
// A forbidden sysctl is refused even if safe; otherwise a sysctl must be in
// the safe set of Kubernetes 1.24 (SafeSysctls) or allowed as unsafe. The
// errors name pod.spec.securityContext.sysctls[i], the 1.24 path.
var sysctlsRule = rule{
	name:        "sysctls",
	validatePod: validateSysctls,
}

// SafeSysctls are the sysctls Kubernetes 1.24 allowed every pod: namespaced
// and without effect on other pods.
var SafeSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
}

func validateSysctls(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList {
	path := sysctlsPath
	var allErrs field.ErrorList
	for i, s := range podSC(pod).Sysctls {
		switch {
		case sysctlMatches(p.Spec.ForbiddenSysctls, s.Name):
			allErrs = append(allErrs, field.Forbidden(path.Index(i), fmt.Sprintf("sysctl %q is not allowed", s.Name)))
		case sysctlMatches(SafeSysctls, s.Name), sysctlMatches(p.Spec.AllowedUnsafeSysctls, s.Name):
		default:
			allErrs = append(allErrs, field.Forbidden(path.Index(i), fmt.Sprintf("unsafe sysctl %q is not allowed", s.Name)))
		}
	}
	return allErrs
}

// sysctlMatches reports whether name is one of the names or matches one of
// the "prefix*" patterns.
func sysctlMatches(patterns []string, name string) bool {
	for _, pat := range patterns {
		if prefix, ok := strings.CutSuffix(pat, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == pat {
			return true
		}
	}
	return false
}
