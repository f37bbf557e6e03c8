package spec

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxFileMode is the highest mode a configMap, secret or downwardAPI file
// may have, as in Kubernetes.
const maxFileMode = 0o777

// downwardAPIVolumeFields are the fieldRef paths podsec writes into a
// downwardAPI volume.
var downwardAPIVolumeFields = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations"}

// validateProjectedSources checks the configMap, secret and downwardAPI
// sources of a volume as the API server does.
func validateProjectedSources(v *corev1.Volume, vp *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	if cm := v.ConfigMap; cm != nil {
		p := vp.Child("configMap")
		allErrs = append(allErrs, validateObjectRef(cm.Name, p.Child("name"))...)
		allErrs = append(allErrs, validateMode(cm.DefaultMode, p.Child("defaultMode"))...)
		allErrs = append(allErrs, validateKeyToPaths(cm.Items, p.Child("items"))...)
	}
	if sec := v.Secret; sec != nil {
		p := vp.Child("secret")
		allErrs = append(allErrs, validateObjectRef(sec.SecretName, p.Child("secretName"))...)
		allErrs = append(allErrs, validateMode(sec.DefaultMode, p.Child("defaultMode"))...)
		allErrs = append(allErrs, validateKeyToPaths(sec.Items, p.Child("items"))...)
	}
	if d := v.DownwardAPI; d != nil {
		p := vp.Child("downwardAPI")
		allErrs = append(allErrs, validateMode(d.DefaultMode, p.Child("defaultMode"))...)
		for i, it := range d.Items {
			ip := p.Child("items").Index(i)
			allErrs = append(allErrs, validateVolumeFilePath(it.Path, ip.Child("path"))...)
			allErrs = append(allErrs, validateMode(it.Mode, ip.Child("mode"))...)
			switch {
			case it.FieldRef != nil && it.ResourceFieldRef != nil:
				allErrs = append(allErrs, field.Invalid(ip, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
			case it.FieldRef == nil:
				allErrs = append(allErrs, field.Required(ip.Child("fieldRef"), "podsec supports fieldRef items"))
			case !isOneOf(downwardAPIVolumeFields, it.FieldRef.FieldPath):
				allErrs = append(allErrs, field.NotSupported(ip.Child("fieldRef", "fieldPath"), it.FieldRef.FieldPath, downwardAPIVolumeFields))
			}
		}
	}
	return allErrs
}

func validateObjectRef(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	allErrs := field.ErrorList{}
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		allErrs = append(allErrs, field.Invalid(p, name, msg))
	}
	return allErrs
}

func validateMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > maxFileMode) {
		return field.ErrorList{field.Invalid(p, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, p *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	for i, it := range items {
		ip := p.Index(i)
		if it.Key == "" {
			allErrs = append(allErrs, field.Required(ip.Child("key"), ""))
		} else {
			for _, msg := range validation.IsConfigMapKey(it.Key) {
				allErrs = append(allErrs, field.Invalid(ip.Child("key"), it.Key, msg))
			}
		}
		allErrs = append(allErrs, validateVolumeFilePath(it.Path, ip.Child("path"))...)
		allErrs = append(allErrs, validateMode(it.Mode, ip.Child("mode"))...)
	}
	return allErrs
}

// validateVolumeFilePath requires a relative path without ".." elements
// that does not start with "..", as the API server does for projected files.
func validateVolumeFilePath(fp string, p *field.Path) field.ErrorList {
	switch {
	case fp == "":
		return field.ErrorList{field.Required(p, "")}
	case path.IsAbs(fp):
		return field.ErrorList{field.Invalid(p, fp, "must be a relative path")}
	case strings.HasPrefix(fp, ".."):
		return field.ErrorList{field.Invalid(p, fp, "must not start with '..'")}
	}
	for _, el := range strings.Split(fp, "/") {
		if el == ".." {
			return field.ErrorList{field.Invalid(p, fp, "must not contain '..'")}
		}
	}
	return nil
}
