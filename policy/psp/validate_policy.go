package psp

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidatePolicy checks a policy as the Kubernetes 1.24 API server did on
// create (ValidatePodSecurityPolicy), with its texts and field paths, quirks
// included: the capability checks name requiredDropCapabilities,
// defaultAddCapabilities and allowedCapabilities without "spec.", and a
// Flexvolume driver is spec.allowedFlexVolumes.allowedFlexVolumes[i].driver.
//
// podsec adds what 1.24 let through and then could not use (Build's
// errors): MustRunAs or MayRunAs without ranges, MustRunAs SELinux without
// seLinuxOptions; IDs above 2147483647; host port ranges outside 0-65535 or
// with min above max; and an apiVersion or kind, when set, other than
// those of a PodSecurityPolicy. Capabilities are compared in any spelling,
// where 1.24 compared strings.
func ValidatePolicy(p *PodSecurityPolicy) field.ErrorList {
	allErrs := validateTypeMeta(p)
	allErrs = append(allErrs, apimachineryvalidation.ValidateObjectMeta(&p.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	allErrs = append(allErrs, validatePolicyAnnotations(p.Annotations, field.NewPath("metadata", "annotations"))...)
	allErrs = append(allErrs, validatePolicySpec(&p.Spec, field.NewPath("spec"))...)
	return allErrs
}

func validateTypeMeta(p *PodSecurityPolicy) field.ErrorList {
	var allErrs field.ErrorList
	if p.APIVersion != "" && !slices.Contains(APIVersions, p.APIVersion) {
		allErrs = append(allErrs, field.NotSupported(field.NewPath("apiVersion"), p.APIVersion, APIVersions))
	}
	if p.Kind != "" && p.Kind != Kind {
		allErrs = append(allErrs, field.NotSupported(field.NewPath("kind"), p.Kind, []string{Kind}))
	}
	return allErrs
}

func validatePolicySpec(s *PodSecurityPolicySpec, fldPath *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	allErrs = append(allErrs, validateRunAsUserOptions(fldPath.Child("runAsUser"), &s.RunAsUser)...)
	allErrs = append(allErrs, validateRunAsGroupOptions(fldPath.Child("runAsGroup"), s.RunAsGroup)...)
	allErrs = append(allErrs, validateSELinuxOptions(fldPath.Child("seLinux"), &s.SELinux)...)
	allErrs = append(allErrs, validateGroupOptions(fldPath.Child("supplementalGroups"), string(s.SupplementalGroups.Rule), s.SupplementalGroups.Ranges)...)
	allErrs = append(allErrs, validateGroupOptions(fldPath.Child("fsGroup"), string(s.FSGroup.Rule), s.FSGroup.Ranges)...)
	allErrs = append(allErrs, validateVolumeTypes(fldPath, s.Volumes)...)
	if len(s.RequiredDropCapabilities) > 0 && slices.Contains(s.AllowedCapabilities, AllowAllCapabilities) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("requiredDropCapabilities"), s.RequiredDropCapabilities,
			"must be empty when all capabilities are allowed by a wildcard"))
	}
	allErrs = append(allErrs, validateCapsAgainstDrops(s.RequiredDropCapabilities, s.DefaultAddCapabilities, field.NewPath("defaultAddCapabilities"))...)
	allErrs = append(allErrs, validateCapsAgainstDrops(s.RequiredDropCapabilities, s.AllowedCapabilities, field.NewPath("allowedCapabilities"))...)
	if d := s.DefaultAllowPrivilegeEscalation; d != nil && *d && !s.allowsPrivilegeEscalation() {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("defaultAllowPrivilegeEscalation"), d,
			"Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true"))
	}
	for i, pm := range s.AllowedProcMountTypes {
		if pm != corev1.DefaultProcMount && pm != corev1.UnmaskedProcMount {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("allowedProcMountTypes").Index(i), pm,
				[]corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}))
		}
	}
	allErrs = append(allErrs, validateAllowedHostPaths(fldPath.Child("allowedHostPaths"), s.AllowedHostPaths)...)
	for i, fv := range s.AllowedFlexVolumes {
		if fv.Driver == "" {
			// 1.24 named the list twice in this path.
			p := fldPath.Child("allowedFlexVolumes").Child("allowedFlexVolumes").Index(i).Child("driver")
			allErrs = append(allErrs, field.Required(p, "must specify a driver"))
		}
	}
	for i, d := range s.AllowedCSIDrivers {
		allErrs = append(allErrs, validateCSIDriverName(d.Name, fldPath.Child("allowedCSIDrivers").Index(i).Child("name"))...)
	}
	allErrs = append(allErrs, validateSysctlPatterns(fldPath.Child("allowedUnsafeSysctls"), s.AllowedUnsafeSysctls)...)
	allErrs = append(allErrs, validateSysctlPatterns(fldPath.Child("forbiddenSysctls"), s.ForbiddenSysctls)...)
	allErrs = append(allErrs, validateSysctlOverlap(fldPath.Child("allowedUnsafeSysctls"), fldPath.Child("forbiddenSysctls"), s.AllowedUnsafeSysctls, s.ForbiddenSysctls)...)
	allErrs = append(allErrs, validateRuntimeClassOptions(fldPath.Child("runtimeClass"), s.RuntimeClass)...)
	allErrs = append(allErrs, validateHostPortRanges(fldPath.Child("hostPorts"), s.HostPorts)...)
	return allErrs
}

func validateRunAsUserOptions(fldPath *field.Path, o *RunAsUserStrategyOptions) field.ErrorList {
	var allErrs field.ErrorList
	rules := []RunAsUserStrategy{RunAsUserStrategyMustRunAs, RunAsUserStrategyMustRunAsNonRoot, RunAsUserStrategyRunAsAny}
	if !slices.Contains(rules, o.Rule) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), o.Rule, rules))
	}
	for i, r := range o.Ranges {
		allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(i), r)...)
	}
	if o.Rule == RunAsUserStrategyMustRunAs && len(o.Ranges) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("ranges"), "MustRunAs requires at least one range"))
	}
	return allErrs
}

func validateRunAsGroupOptions(fldPath *field.Path, o *RunAsGroupStrategyOptions) field.ErrorList {
	if o == nil {
		return nil
	}
	var allErrs field.ErrorList
	switch o.Rule {
	case RunAsGroupStrategyRunAsAny:
		if len(o.Ranges) != 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("ranges"), o.Ranges, "Ranges must be empty"))
		}
	case RunAsGroupStrategyMustRunAs, RunAsGroupStrategyMayRunAs:
		if len(o.Ranges) == 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("ranges"), o.Ranges, "must provide at least one range"))
		}
		for i, r := range o.Ranges {
			allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(i), r)...)
		}
	default:
		// Unsorted in 1.24, unlike the other rule lists.
		rules := []RunAsGroupStrategy{RunAsGroupStrategyMustRunAs, RunAsGroupStrategyRunAsAny, RunAsGroupStrategyMayRunAs}
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), o.Rule, rules))
	}
	return allErrs
}

func validateSELinuxOptions(fldPath *field.Path, o *SELinuxStrategyOptions) field.ErrorList {
	var allErrs field.ErrorList
	rules := []SELinuxStrategy{SELinuxStrategyMustRunAs, SELinuxStrategyRunAsAny}
	if !slices.Contains(rules, o.Rule) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), o.Rule, rules))
	}
	if o.Rule == SELinuxStrategyMustRunAs && o.SELinuxOptions == nil {
		allErrs = append(allErrs, field.Required(fldPath.Child("seLinuxOptions"), "MustRunAs requires SELinuxOptions"))
	}
	return allErrs
}

// validateGroupOptions checks fsGroup and supplementalGroups.
func validateGroupOptions(fldPath *field.Path, rule string, ranges []IDRange) field.ErrorList {
	var allErrs field.ErrorList
	rules := []string{groupMayRunAs, groupMustRunAs, groupRunAsAny}
	if !slices.Contains(rules, rule) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), rule, rules))
	}
	for i, r := range ranges {
		allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(i), r)...)
	}
	if (rule == groupMustRunAs || rule == groupMayRunAs) && len(ranges) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("ranges"), "ranges must be supplied for "+rule))
	}
	return allErrs
}

// maxID is the largest user or group ID a pod may name.
const maxID = math.MaxInt32

func validateIDRange(fldPath *field.Path, r IDRange) field.ErrorList {
	var allErrs field.ErrorList
	if r.Min < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("min"), r.Min, "min cannot be negative"))
	}
	if r.Max < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("max"), r.Max, "max cannot be negative"))
	}
	if r.Min > r.Max {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("min"), r.Min, "min cannot be greater than max"))
	}
	if r.Min > maxID {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("min"), r.Min, fmt.Sprintf("min cannot be greater than %d", maxID)))
	}
	if r.Max > maxID {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("max"), r.Max, fmt.Sprintf("max cannot be greater than %d", maxID)))
	}
	return allErrs
}

func validateHostPortRanges(fldPath *field.Path, ranges []HostPortRange) field.ErrorList {
	var allErrs field.ErrorList
	for i, r := range ranges {
		p := fldPath.Index(i)
		for _, b := range []struct {
			name string
			v    int32
		}{{"min", r.Min}, {"max", r.Max}} {
			if b.v < 0 || b.v > 65535 {
				allErrs = append(allErrs, field.Invalid(p.Child(b.name), b.v, "must be between 0 and 65535, inclusive"))
			}
		}
		if r.Min > r.Max {
			allErrs = append(allErrs, field.Invalid(p.Child("min"), r.Min, "min cannot be greater than max"))
		}
	}
	return allErrs
}

func validateVolumeTypes(fldPath *field.Path, volumes []FSType) field.ErrorList {
	var allErrs field.ErrorList
	valid := append([]FSType{All}, fsTypes...)
	slices.Sort(valid)
	for _, v := range volumes {
		if !slices.Contains(valid, v) {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("volumes"), v, valid))
		}
	}
	return allErrs
}

func validateCapsAgainstDrops(requiredDrops, caps []corev1.Capability, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, c := range caps {
		if hasCap(requiredDrops, c) {
			allErrs = append(allErrs, field.Invalid(fldPath, c, fmt.Sprintf("capability is listed in %s and requiredDropCapabilities", fldPath)))
		}
	}
	return allErrs
}

func validateAllowedHostPaths(fldPath *field.Path, paths []AllowedHostPath) field.ErrorList {
	var allErrs field.ErrorList
	for i, a := range paths {
		if a.PathPrefix == "" {
			allErrs = append(allErrs, field.Required(fldPath.Index(i), "is required"))
			break
		}
		if slices.Contains(strings.Split(a.PathPrefix, "/"), "..") {
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), a.PathPrefix, "must not contain '..'"))
		}
	}
	return allErrs
}

// validateCSIDriverName is the core validation of a CSI driver name.
func validateCSIDriverName(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(fldPath, ""))
	}
	if len(name) > 63 {
		allErrs = append(allErrs, field.TooLong(fldPath, name, 63))
	}
	for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(name)) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

// Sysctl names and patterns as 1.24 accepted them, dots or slashes between
// segments and an optional trailing "*".
const (
	sysctlSegmentFmt        = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
	sysctlPatternSegmentFmt = "([a-z0-9][-_a-z0-9]*)?[a-z0-9*]"
	// SysctlPatternFmt is the regular expression of a sysctl pattern.
	SysctlPatternFmt = "(" + sysctlSegmentFmt + "[\\./])*" + sysctlPatternSegmentFmt
	sysctlMaxLength  = 253
)

var sysctlPatternRegexp = regexp.MustCompile("^" + SysctlPatternFmt + "$")

func validateSysctlPatterns(fldPath *field.Path, sysctls []string) field.ErrorList {
	var allErrs field.ErrorList
	coversAll := false
	for i, s := range sysctls {
		switch {
		case s == "":
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), s, "empty sysctl not allowed"))
		case len(s) > sysctlMaxLength || !sysctlPatternRegexp.MatchString(s):
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), s,
				fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, SysctlPatternFmt)))
		case s[0] == '*':
			coversAll = true
		}
	}
	if coversAll && len(sysctls) > 1 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("items"), "if '*' is present, must not specify other sysctls"))
	}
	return allErrs
}

func validateSysctlOverlap(allowedPath, forbiddenPath *field.Path, allowed, forbidden []string) field.ErrorList {
	var allErrs field.ErrorList
	for i, a := range allowed {
		aPrefix, aPattern := strings.CutSuffix(a, "*")
		for j, f := range forbidden {
			fPrefix, fPattern := strings.CutSuffix(f, "*")
			switch {
			case aPattern && fPattern:
				if strings.HasPrefix(aPrefix, fPrefix) {
					allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), a, "sysctl overlaps with "+f))
				} else if strings.HasPrefix(fPrefix, aPrefix) {
					allErrs = append(allErrs, field.Invalid(forbiddenPath.Index(j), f, "sysctl overlaps with "+a))
				}
			case aPattern:
				if strings.HasPrefix(f, aPrefix) {
					allErrs = append(allErrs, field.Invalid(forbiddenPath.Index(j), f, "sysctl overlaps with "+a))
				}
			case fPattern:
				if strings.HasPrefix(a, fPrefix) {
					allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), a, "sysctl overlaps with "+f))
				}
			case a == f:
				allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), a, "sysctl overlaps with "+f))
			}
		}
	}
	return allErrs
}

func validateRuntimeClassOptions(fldPath *field.Path, rc *RuntimeClassStrategyOptions) field.ErrorList {
	if rc == nil {
		return nil
	}
	var allErrs field.ErrorList
	allowedPath := fldPath.Child("allowedRuntimeClassNames")
	seen := map[string]bool{}
	for i, name := range rc.AllowedRuntimeClassNames {
		if name != AllowAllRuntimeClassNames {
			allErrs = append(allErrs, validateRuntimeClassName(name, allowedPath.Index(i))...)
		}
		if seen[name] {
			allErrs = append(allErrs, field.Duplicate(allowedPath.Index(i), name))
		}
		seen[name] = true
	}
	if d := rc.DefaultRuntimeClassName; d != nil {
		allErrs = append(allErrs, validateRuntimeClassName(*d, fldPath.Child("defaultRuntimeClassName"))...)
		if !seen[*d] && !seen[AllowAllRuntimeClassNames] {
			allErrs = append(allErrs, field.Required(allowedPath, fmt.Sprintf("default runtime class %q must be allowed", *d)))
		}
	}
	if seen[AllowAllRuntimeClassNames] && len(rc.AllowedRuntimeClassNames) > 1 {
		allErrs = append(allErrs, field.Invalid(allowedPath, rc.AllowedRuntimeClassNames, "if '*' is present, must not specify other RuntimeClass names"))
	}
	return allErrs
}

func validateRuntimeClassName(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(name, false) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

// validatePolicyAnnotations checks the seccomp and AppArmor annotations.
func validatePolicyAnnotations(annotations map[string]string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if p := annotations[AppArmorDefaultProfileAnnotation]; p != "" {
		if msg := appArmorProfileFormat(p); msg != "" {
			allErrs = append(allErrs, field.Invalid(fldPath.Key(AppArmorDefaultProfileAnnotation), p, msg))
		}
	}
	if list := annotations[AppArmorAllowedProfilesAnnotation]; list != "" {
		for _, p := range strings.Split(list, ",") {
			if msg := appArmorProfileFormat(p); msg != "" {
				allErrs = append(allErrs, field.Invalid(fldPath.Key(AppArmorAllowedProfilesAnnotation), list, msg))
			}
		}
	}
	if p := annotations[SeccompDefaultProfileAnnotation]; p != "" {
		allErrs = append(allErrs, validateSeccompProfileName(p, fldPath.Key(SeccompDefaultProfileAnnotation))...)
	}
	if list := annotations[SeccompAllowedProfilesAnnotation]; list != "" {
		for _, p := range strings.Split(list, ",") {
			if p != AllowAllSeccompProfiles {
				allErrs = append(allErrs, validateSeccompProfileName(p, fldPath.Key(SeccompAllowedProfilesAnnotation))...)
			}
		}
	}
	return allErrs
}

func appArmorProfileFormat(p string) string {
	if p == "" || p == profileRuntimeDefault || p == profileUnconfined || strings.HasPrefix(p, profileLocalhost) {
		return ""
	}
	return fmt.Sprintf("invalid AppArmor profile name: %q", p)
}

func validateSeccompProfileName(p string, fldPath *field.Path) field.ErrorList {
	switch {
	case p == profileRuntimeDefault || p == profileDockerDefault || p == profileUnconfined:
		return nil
	case strings.HasPrefix(p, profileLocalhost):
		name := strings.TrimPrefix(p, profileLocalhost)
		var allErrs field.ErrorList
		if path.IsAbs(name) {
			allErrs = append(allErrs, field.Invalid(fldPath, name, "must be a relative path"))
		}
		if slices.Contains(strings.Split(name, "/"), "..") {
			allErrs = append(allErrs, field.Invalid(fldPath, name, "must not contain '..'"))
		}
		return allErrs
	}
	return field.ErrorList{field.Invalid(fldPath, p, "must be a valid seccomp profile")}
}
