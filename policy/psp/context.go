package psp

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Accessors for the security context a container runs with. Kubernetes'
// "effective" container context takes runAsUser, runAsGroup, runAsNonRoot
// and seLinuxOptions from the container, else from the pod; the other
// settings are the container's alone.

func podSC(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		return &corev1.PodSecurityContext{}
	}
	return pod.Spec.SecurityContext
}

func containerSC(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		return &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

// ensurePodSC and ensureContainerSC give a context to set a default in,
// creating it only then, so that a pod the policy leaves alone compares
// equal to the original.
func ensurePodSC(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return pod.Spec.SecurityContext
}

func ensureContainerSC(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

func effectiveRunAsUser(pod *corev1.Pod, c *corev1.Container) *int64 {
	if v := containerSC(c).RunAsUser; v != nil {
		return v
	}
	return podSC(pod).RunAsUser
}

func effectiveRunAsGroup(pod *corev1.Pod, c *corev1.Container) *int64 {
	if v := containerSC(c).RunAsGroup; v != nil {
		return v
	}
	return podSC(pod).RunAsGroup
}

func effectiveRunAsNonRoot(pod *corev1.Pod, c *corev1.Container) *bool {
	if v := containerSC(c).RunAsNonRoot; v != nil {
		return v
	}
	return podSC(pod).RunAsNonRoot
}

func effectiveSELinux(pod *corev1.Pod, c *corev1.Container) *corev1.SELinuxOptions {
	if v := containerSC(c).SELinuxOptions; v != nil {
		return v
	}
	return podSC(pod).SELinuxOptions
}

func ptrTo[T any](v T) *T { return &v }

// Legacy annotation forms of seccomp and AppArmor profiles, which is what
// the policy annotations list.
const (
	profileRuntimeDefault = "runtime/default"
	profileDockerDefault  = "docker/default"
	profileUnconfined     = "unconfined"
	profileLocalhost      = "localhost/"
)

// seccompName gives a seccompProfile field the name the legacy annotation
// used for it (podutil.SeccompAnnotationForField): "runtime/default",
// "unconfined" or "localhost/<profile>"; "" for a Localhost type without
// profile or an unknown type.
func seccompName(sp *corev1.SeccompProfile) string {
	switch sp.Type {
	case corev1.SeccompProfileTypeRuntimeDefault:
		return profileRuntimeDefault
	case corev1.SeccompProfileTypeUnconfined:
		return profileUnconfined
	case corev1.SeccompProfileTypeLocalhost:
		if sp.LocalhostProfile != nil {
			return profileLocalhost + *sp.LocalhostProfile
		}
	}
	return ""
}

// seccompField is the inverse of seccompName; docker/default is
// RuntimeDefault, as Kubernetes converted it.
func seccompField(name string) (*corev1.SeccompProfile, bool) {
	switch {
	case name == profileRuntimeDefault || name == profileDockerDefault:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}, true
	case name == profileUnconfined:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}, true
	case strings.HasPrefix(name, profileLocalhost) && len(name) > len(profileLocalhost):
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptrTo(strings.TrimPrefix(name, profileLocalhost))}, true
	}
	return nil, false
}

// appArmorName and appArmorField do for appArmorProfile what seccompName
// and seccompField do for seccompProfile.
func appArmorName(ap *corev1.AppArmorProfile) string {
	switch ap.Type {
	case corev1.AppArmorProfileTypeRuntimeDefault:
		return profileRuntimeDefault
	case corev1.AppArmorProfileTypeUnconfined:
		return profileUnconfined
	case corev1.AppArmorProfileTypeLocalhost:
		if ap.LocalhostProfile != nil {
			return profileLocalhost + *ap.LocalhostProfile
		}
	}
	return ""
}

func appArmorField(name string) (*corev1.AppArmorProfile, bool) {
	switch {
	case name == profileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}, true
	case name == profileUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}, true
	case strings.HasPrefix(name, profileLocalhost) && len(name) > len(profileLocalhost):
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: ptrTo(strings.TrimPrefix(name, profileLocalhost))}, true
	}
	return nil, false
}

// idRangesAllow reports whether id falls in one of the inclusive ranges.
func idRangesAllow(ranges []IDRange, id int64) bool {
	for _, r := range ranges {
		if id >= r.Min && id <= r.Max {
			return true
		}
	}
	return false
}

// validateGroupsInRanges is group.ValidateGroupsInRanges: one error per
// group outside the ranges, each giving all the groups as the bad value.
func validateGroupsInRanges(path *field.Path, ranges []IDRange, groups []int64) field.ErrorList {
	var allErrs field.ErrorList
	for _, g := range groups {
		if !idRangesAllow(ranges, g) {
			allErrs = append(allErrs, field.Invalid(path, groups, fmt.Sprintf("group %d must be in the ranges: %v", g, ranges)))
		}
	}
	return allErrs
}
