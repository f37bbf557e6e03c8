package spec

import (
	"fmt"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Details of the errors for a security setting that the node cannot enforce.
// podsec refuses such a pod rather than run it with less confinement than
// the manifest asks for.
const (
	noSELinuxMsg  = "cannot be enforced: no SELinux LSM is active on this node"
	noAppArmorMsg = "cannot be enforced: no AppArmor LSM is active on this node"
)

var (
	seccompProfileTypes = []corev1.SeccompProfileType{corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined}
	appArmorProfileType = []corev1.AppArmorProfileType{corev1.AppArmorProfileTypeLocalhost, corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined}
)

// maxAppArmorProfileLength is PATH_MAX - 1, the limit of Kubernetes.
const maxAppArmorProfileLength = 4095

func validateSeccompProfile(sp *corev1.SeccompProfile, p *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	switch sp.Type {
	case corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
	case "":
		allErrs = append(allErrs, field.Required(p.Child("type"), "type is required when seccompProfile is set"))
	default:
		allErrs = append(allErrs, field.NotSupported(p.Child("type"), sp.Type, seccompProfileTypes))
	}
	lp := p.Child("localhostProfile")
	switch {
	case sp.Type == corev1.SeccompProfileTypeLocalhost && (sp.LocalhostProfile == nil || *sp.LocalhostProfile == ""):
		allErrs = append(allErrs, field.Required(lp, "must be set when seccomp type is Localhost"))
	case sp.Type == corev1.SeccompProfileTypeLocalhost:
		allErrs = append(allErrs, validateLocalDescendingPath(*sp.LocalhostProfile, lp)...)
	case sp.LocalhostProfile != nil:
		allErrs = append(allErrs, field.Invalid(lp, *sp.LocalhostProfile, "can only be set when seccomp type is Localhost"))
	}
	return allErrs
}

func validateAppArmorProfile(ap *corev1.AppArmorProfile, p *field.Path, opts ValidateOptions) field.ErrorList {
	if ap == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	lp := p.Child("localhostProfile")
	switch ap.Type {
	case corev1.AppArmorProfileTypeLocalhost:
		switch {
		case ap.LocalhostProfile == nil || strings.TrimSpace(*ap.LocalhostProfile) == "":
			allErrs = append(allErrs, field.Required(lp, "must be set when AppArmor type is Localhost"))
		case strings.TrimSpace(*ap.LocalhostProfile) != *ap.LocalhostProfile:
			allErrs = append(allErrs, field.Invalid(lp, *ap.LocalhostProfile, "must not be padded with whitespace"))
		case len(*ap.LocalhostProfile) > maxAppArmorProfileLength:
			allErrs = append(allErrs, field.TooLong(lp, "", maxAppArmorProfileLength))
		}
	case corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined:
		if ap.LocalhostProfile != nil {
			allErrs = append(allErrs, field.Invalid(lp, *ap.LocalhostProfile, "can only be set when AppArmor type is Localhost"))
		}
	case "":
		allErrs = append(allErrs, field.Required(p.Child("type"), "type is required when appArmorProfile is set"))
	default:
		allErrs = append(allErrs, field.NotSupported(p.Child("type"), ap.Type, appArmorProfileType))
	}
	enforced := ap.Type == corev1.AppArmorProfileTypeRuntimeDefault || ap.Type == corev1.AppArmorProfileTypeLocalhost
	if enforced && !opts.AppArmorEnabled {
		allErrs = append(allErrs, opts.node(field.Forbidden(p, noAppArmorMsg))...)
	}
	return allErrs
}

// validateSELinuxOptions checks that user, role and type are single
// components of a context (no ':') and that nothing holds blanks, which
// would let one field spill into the next once joined into "u:r:t:l".
func validateSELinuxOptions(o *corev1.SELinuxOptions, p *field.Path, opts ValidateOptions) field.ErrorList {
	if o == nil || *o == (corev1.SELinuxOptions{}) {
		return nil
	}
	allErrs := field.ErrorList{}
	for _, f := range []struct{ name, value string }{{"user", o.User}, {"role", o.Role}, {"type", o.Type}} {
		if strings.ContainsRune(f.value, ':') || strings.IndexFunc(f.value, notGraphic) >= 0 {
			allErrs = append(allErrs, field.Invalid(p.Child(f.name), f.value, "must not contain ':' or whitespace"))
		}
	}
	if strings.IndexFunc(o.Level, notGraphic) >= 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("level"), o.Level, "must not contain whitespace"))
	}
	if !opts.SELinuxEnabled {
		allErrs = append(allErrs, opts.node(field.Forbidden(p, noSELinuxMsg))...)
	}
	return allErrs
}

func notGraphic(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }

// validateSecurityAnnotations checks the annotations that once carried
// security settings. The seccomp ones are no longer honored by Kubernetes,
// so podsec refuses them rather than silently run unconfined. The AppArmor
// ones are still honored, so they are validated like appArmorProfile.
func validateSecurityAnnotations(pod *corev1.Pod, opts ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	p := field.NewPath("metadata", "annotations")
	for _, k := range sortedMapKeys(pod.Annotations) {
		v := pod.Annotations[k]
		switch {
		case k == corev1.SeccompPodAnnotationKey:
			allErrs = append(allErrs, opts.node(field.Forbidden(p.Key(k), "the deprecated seccomp annotation is not honored; use spec.securityContext.seccompProfile"))...)
		case strings.HasPrefix(k, corev1.SeccompContainerAnnotationKeyPrefix):
			allErrs = append(allErrs, opts.node(field.Forbidden(p.Key(k), "the deprecated seccomp annotation is not honored; use the container's securityContext.seccompProfile"))...)
		case strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix):
			name := strings.TrimPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix)
			allErrs = append(allErrs, validateAppArmorAnnotation(pod, name, v, p.Key(k), opts)...)
		}
	}
	return allErrs
}

// validateAppArmorAnnotation checks the legacy AppArmor annotation of the
// named container: "runtime/default", "unconfined" or "localhost/<profile>".
func validateAppArmorAnnotation(pod *corev1.Pod, name, value string, p *field.Path, opts ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	var container *corev1.Container
	for _, ref := range validationContainers(&pod.Spec) {
		if ref.c.Name == name {
			container = ref.c
		}
	}
	if container == nil {
		allErrs = append(allErrs, field.Invalid(p, name, "container not found"))
	}
	profile, ok := appArmorAnnotationProfile(value)
	if !ok {
		return append(allErrs, field.Invalid(p, value, fmt.Sprintf("invalid AppArmor profile name: %q", value)))
	}
	if profile == nil {
		return allErrs
	}
	if container != nil && container.SecurityContext != nil && container.SecurityContext.AppArmorProfile != nil {
		set := container.SecurityContext.AppArmorProfile
		switch {
		case set.Type != profile.Type:
			allErrs = append(allErrs, field.Forbidden(p, "apparmor type in annotation and field must match"))
		case profile.Type == corev1.AppArmorProfileTypeLocalhost &&
			(set.LocalhostProfile == nil || *set.LocalhostProfile != *profile.LocalhostProfile):
			allErrs = append(allErrs, field.Forbidden(p, "apparmor profile in annotation and field must match"))
		}
	}
	if !opts.AppArmorEnabled && profile.Type != corev1.AppArmorProfileTypeUnconfined {
		allErrs = append(allErrs, opts.node(field.Forbidden(p, noAppArmorMsg))...)
	}
	return allErrs
}

// appArmorAnnotationProfile parses the value of a legacy AppArmor
// annotation. It returns nil and true for the empty value, which sets
// nothing, and false for a value Kubernetes does not accept.
func appArmorAnnotationProfile(value string) (*corev1.AppArmorProfile, bool) {
	switch {
	case value == "":
		return nil, true
	case value == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}, true
	case value == corev1.DeprecatedAppArmorBetaProfileNameUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}, true
	case strings.HasPrefix(value, corev1.DeprecatedAppArmorBetaProfileNamePrefix) && len(value) > len(corev1.DeprecatedAppArmorBetaProfileNamePrefix):
		name := strings.TrimPrefix(value, corev1.DeprecatedAppArmorBetaProfileNamePrefix)
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}, true
	}
	return nil, false
}
