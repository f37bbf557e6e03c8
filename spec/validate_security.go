package spec

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	procMountTypes           = []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}
	supplementalGroupsPolicy = []corev1.SupplementalGroupsPolicy{corev1.SupplementalGroupsPolicyMerge, corev1.SupplementalGroupsPolicyStrict}
	fsGroupChangePolicies    = []corev1.PodFSGroupChangePolicy{corev1.FSGroupChangeAlways, corev1.FSGroupChangeOnRootMismatch}
	seLinuxChangePolicies    = []corev1.PodSELinuxChangePolicy{corev1.SELinuxChangePolicyMountOption, corev1.SELinuxChangePolicyRecursive}
)

func validatePodSecurityContext(pod *corev1.Pod, opts ValidateOptions) field.ErrorList {
	sc := pod.Spec.SecurityContext
	if sc == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	p := field.NewPath("spec", "securityContext")
	allErrs = append(allErrs, validateID(sc.RunAsUser, p.Child("runAsUser"), validation.IsValidUserID)...)
	allErrs = append(allErrs, validateID(sc.RunAsGroup, p.Child("runAsGroup"), validation.IsValidGroupID)...)
	allErrs = append(allErrs, validateID(sc.FSGroup, p.Child("fsGroup"), validation.IsValidGroupID)...)
	for i := range sc.SupplementalGroups {
		allErrs = append(allErrs, validateID(&sc.SupplementalGroups[i], p.Child("supplementalGroups").Index(i), validation.IsValidGroupID)...)
	}
	if v := sc.SupplementalGroupsPolicy; v != nil && !isOneOf(supplementalGroupsPolicy, *v) {
		allErrs = append(allErrs, field.NotSupported(p.Child("supplementalGroupsPolicy"), *v, supplementalGroupsPolicy))
	}
	if v := sc.FSGroupChangePolicy; v != nil && !isOneOf(fsGroupChangePolicies, *v) {
		allErrs = append(allErrs, field.NotSupported(p.Child("fsGroupChangePolicy"), *v, fsGroupChangePolicies))
	}
	if v := sc.SELinuxChangePolicy; v != nil && !isOneOf(seLinuxChangePolicies, *v) {
		allErrs = append(allErrs, field.NotSupported(p.Child("seLinuxChangePolicy"), *v, seLinuxChangePolicies))
	}
	allErrs = append(allErrs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
	allErrs = append(allErrs, validateAppArmorProfile(sc.AppArmorProfile, p.Child("appArmorProfile"), opts)...)
	allErrs = append(allErrs, validateSELinuxOptions(sc.SELinuxOptions, p.Child("seLinuxOptions"), opts)...)
	if sc.WindowsOptions != nil {
		allErrs = append(allErrs, opts.windowsOptions(pod, field.Forbidden(p.Child("windowsOptions"), "windows options cannot be set for a linux pod"))...)
	}
	return allErrs
}

// validateContainerSecurityContext checks the securityContext of one
// container. privileged, capabilities, allowPrivilegeEscalation and
// procMount exist only here: a container inherits none of them from the pod.
//
// runAsNonRoot with an effective runAsUser of 0 is not rejected here, as the
// API server does not reject it either: the runtime refuses to start such a
// container, once the image's user is known too.
func validateContainerSecurityContext(pod *corev1.Pod, ref ctrRef, opts ValidateOptions) field.ErrorList {
	sc := ref.c.SecurityContext
	if sc == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	p := ref.path.Child("securityContext")
	allErrs = append(allErrs, validateID(sc.RunAsUser, p.Child("runAsUser"), validation.IsValidUserID)...)
	allErrs = append(allErrs, validateID(sc.RunAsGroup, p.Child("runAsGroup"), validation.IsValidGroupID)...)

	addsSysAdmin := false
	if caps := sc.Capabilities; caps != nil {
		for i, c := range caps.Add {
			name, ok := NormalizeCapability(string(c))
			if !ok {
				allErrs = append(allErrs, unknownCapability(p.Child("capabilities", "add").Index(i), c))
			}
			addsSysAdmin = addsSysAdmin || name == "CAP_SYS_ADMIN"
		}
		for i, c := range caps.Drop {
			if _, ok := NormalizeCapability(string(c)); !ok {
				allErrs = append(allErrs, unknownCapability(p.Child("capabilities", "drop").Index(i), c))
			}
		}
	}
	if ape := sc.AllowPrivilegeEscalation; ape != nil && !*ape {
		ap := p.Child("allowPrivilegeEscalation")
		if sc.Privileged != nil && *sc.Privileged {
			allErrs = append(allErrs, field.Invalid(ap, false, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if addsSysAdmin {
			allErrs = append(allErrs, field.Invalid(ap, false, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
		}
	}
	if pm := sc.ProcMount; pm != nil {
		pp := p.Child("procMount")
		switch {
		case !isOneOf(procMountTypes, *pm):
			allErrs = append(allErrs, field.NotSupported(pp, *pm, procMountTypes))
		case *pm == corev1.UnmaskedProcMount && podUsesHostUsers(&pod.Spec):
			// An unmasked /proc of the host's user namespace would expose
			// the host's kernel knobs to a root container (Kubernetes >= 1.30).
			allErrs = append(allErrs, field.Invalid(pp, *pm, "`hostUsers` must be false to use `Unmasked`"))
		}
	}
	allErrs = append(allErrs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
	allErrs = append(allErrs, validateAppArmorProfile(sc.AppArmorProfile, p.Child("appArmorProfile"), opts)...)
	allErrs = append(allErrs, validateSELinuxOptions(sc.SELinuxOptions, p.Child("seLinuxOptions"), opts)...)
	if sc.WindowsOptions != nil {
		allErrs = append(allErrs, opts.windowsOptions(pod, field.Forbidden(p.Child("windowsOptions"), "windows options cannot be set for a linux pod"))...)
	}
	return allErrs
}

func unknownCapability(p *field.Path, c corev1.Capability) *field.Error {
	return field.Invalid(p, string(c), `must be a Linux capability, as "NET_ADMIN", "CAP_NET_ADMIN" or "ALL"`)
}

// validateID checks an optional user or group ID with one of apimachinery's
// IsValidUserID or IsValidGroupID.
func validateID(id *int64, p *field.Path, check func(int64) []string) field.ErrorList {
	if id == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	for _, msg := range check(*id) {
		allErrs = append(allErrs, field.Invalid(p, *id, msg))
	}
	return allErrs
}
