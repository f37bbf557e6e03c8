package spec

import (
	"path"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	hostPathTypes = []corev1.HostPathType{
		corev1.HostPathUnset, corev1.HostPathBlockDev, corev1.HostPathCharDev,
		corev1.HostPathDirectory, corev1.HostPathDirectoryOrCreate, corev1.HostPathFile,
		corev1.HostPathFileOrCreate, corev1.HostPathSocket,
	}
	emptyDirMedia       = []corev1.StorageMedium{corev1.StorageMediumDefault, corev1.StorageMediumMemory}
	mountPropagations   = []corev1.MountPropagationMode{corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone}
	recursiveReadOnlies = []corev1.RecursiveReadOnlyMode{corev1.RecursiveReadOnlyDisabled, corev1.RecursiveReadOnlyEnabled, corev1.RecursiveReadOnlyIfPossible}
)

// supportedVolumeTypes are the volume sources podsec can provide, by their
// JSON names.
var supportedVolumeTypes = map[string]bool{"emptyDir": true, "hostPath": true, "configMap": true, "secret": true, "downwardAPI": true}

const unsupportedVolumeMsg = "volume type not supported by podsec; supported: emptyDir, hostPath, configMap, secret, downwardAPI"

func validateVolumes(pod *corev1.Pod, opts ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	p := field.NewPath("spec", "volumes")
	seen := map[string]bool{}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		vp := p.Index(i)
		np := vp.Child("name")
		switch {
		case v.Name == "":
			allErrs = append(allErrs, field.Required(np, ""))
		case seen[v.Name]:
			allErrs = append(allErrs, field.Duplicate(np, v.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				allErrs = append(allErrs, field.Invalid(np, v.Name, msg))
			}
		}
		seen[v.Name] = true

		types := volumeTypes(&v.VolumeSource)
		if len(types) == 0 {
			allErrs = append(allErrs, field.Required(vp, "must specify a volume type"))
			continue
		}
		for _, t := range types[1:] {
			allErrs = append(allErrs, field.Forbidden(vp.Child(t), "may not specify more than 1 volume type"))
		}
		if !supportedVolumeTypes[types[0]] {
			allErrs = append(allErrs, opts.node(field.Forbidden(vp.Child(types[0]), unsupportedVolumeMsg))...)
		}
		allErrs = append(allErrs, validateEmptyDir(v.EmptyDir, vp.Child("emptyDir"))...)
		allErrs = append(allErrs, validateHostPath(v.HostPath, vp.Child("hostPath"))...)
		allErrs = append(allErrs, validateProjectedSources(v, vp)...)
	}
	return allErrs
}

// volumeTypes returns the JSON names of the sources set in vs, in the
// order of the fields. Going through reflection keeps the check right for
// a source that a new k8s.io/api adds.
func volumeTypes(vs *corev1.VolumeSource) []string {
	var types []string
	v := reflect.ValueOf(vs).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		types = append(types, name)
	}
	return types
}

func validateEmptyDir(ed *corev1.EmptyDirVolumeSource, p *field.Path) field.ErrorList {
	if ed == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	if !isOneOf(emptyDirMedia, ed.Medium) {
		allErrs = append(allErrs, field.NotSupported(p.Child("medium"), ed.Medium, emptyDirMedia))
	}
	if ed.SizeLimit != nil && ed.SizeLimit.Sign() < 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("sizeLimit"), ed.SizeLimit.String(), apivalidation.IsNegativeErrorMsg))
	}
	return allErrs
}

func validateHostPath(hp *corev1.HostPathVolumeSource, p *field.Path) field.ErrorList {
	if hp == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	pp := p.Child("path")
	switch {
	case hp.Path == "":
		allErrs = append(allErrs, field.Required(pp, ""))
	case !path.IsAbs(hp.Path):
		allErrs = append(allErrs, field.Invalid(pp, hp.Path, "must be an absolute path"))
	default:
		allErrs = append(allErrs, validatePathNoBacksteps(hp.Path, pp)...)
	}
	if hp.Type != nil && !isOneOf(hostPathTypes, *hp.Type) {
		allErrs = append(allErrs, field.NotSupported(p.Child("type"), *hp.Type, hostPathTypes))
	}
	return allErrs
}

// validateVolumeMounts checks the mounts of one container against the
// pod's volumes. Mount points are compared cleaned, so "/data" and "/data/"
// are the same point.
func validateVolumeMounts(ref ctrRef, volumes map[string]*corev1.Volume, opts ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	c := ref.c
	p := ref.path.Child("volumeMounts")
	privileged := c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
	points := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p.Index(i)
		if m.Name == "" {
			allErrs = append(allErrs, field.Required(mp.Child("name"), ""))
		} else if volumes[m.Name] == nil {
			allErrs = append(allErrs, field.NotFound(mp.Child("name"), m.Name))
		}
		pp := mp.Child("mountPath")
		switch {
		case m.MountPath == "":
			allErrs = append(allErrs, field.Required(pp, ""))
		case !path.IsAbs(m.MountPath):
			allErrs = append(allErrs, field.Invalid(pp, m.MountPath, "must be an absolute path"))
		case points[path.Clean(m.MountPath)]:
			allErrs = append(allErrs, field.Invalid(pp, m.MountPath, "must be unique"))
		}
		if m.MountPath != "" {
			points[path.Clean(m.MountPath)] = true
		}
		if m.SubPath != "" {
			allErrs = append(allErrs, validateLocalDescendingPath(m.SubPath, mp.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			// Expanding $(VAR) is the kubelet's job, and a ".." produced by
			// an expansion would escape the volume: podsec does not do it.
			allErrs = append(allErrs, opts.node(field.Forbidden(mp.Child("subPathExpr"), "not supported by podsec; use subPath"))...)
		}
		if mprop := m.MountPropagation; mprop != nil {
			switch {
			case !isOneOf(mountPropagations, *mprop):
				allErrs = append(allErrs, field.NotSupported(mp.Child("mountPropagation"), *mprop, mountPropagations))
			case *mprop == corev1.MountPropagationBidirectional && !privileged:
				allErrs = append(allErrs, field.Forbidden(mp.Child("mountPropagation"), "Bidirectional mount propagation is available only to privileged containers"))
			}
		}
		allErrs = append(allErrs, validateRecursiveReadOnly(m, mp.Child("recursiveReadOnly"))...)
	}
	return allErrs
}

func validateRecursiveReadOnly(m corev1.VolumeMount, p *field.Path) field.ErrorList {
	if m.RecursiveReadOnly == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	switch *m.RecursiveReadOnly {
	case corev1.RecursiveReadOnlyDisabled:
	case corev1.RecursiveReadOnlyEnabled, corev1.RecursiveReadOnlyIfPossible:
		if !m.ReadOnly {
			allErrs = append(allErrs, field.Forbidden(p, "may only be specified when readOnly is true"))
		}
		if m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone {
			allErrs = append(allErrs, field.Forbidden(p, "may only be specified when mountPropagation is None or not specified"))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(p, *m.RecursiveReadOnly, recursiveReadOnlies))
	}
	return allErrs
}
