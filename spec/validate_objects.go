package spec

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxObjectDataBytes is the API server's limit on the data of one
// ConfigMap or Secret (MaxSecretSize): a manifest cannot make podsec write
// more into a volume than a cluster would have stored.
const maxObjectDataBytes = 1 << 20

// ValidateConfigMap checks a ConfigMap as the API server's
// ValidateConfigMap does: its name, and keys that are valid file names of
// a volume (IsConfigMapKey: no "/", not "." or "..", not starting with
// ".." as the kubelet's own "..data" does), unique across data and
// binaryData, and 1 MiB of data in all.
func ValidateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	allErrs := validateObjectName(cm.Name)
	size := 0
	dp, bp := field.NewPath("data"), field.NewPath("binaryData")
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		allErrs = append(allErrs, validateDataKey(k, dp.Key(k))...)
		size += len(cm.Data[k])
	}
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		allErrs = append(allErrs, validateDataKey(k, bp.Key(k))...)
		if _, dup := cm.Data[k]; dup {
			allErrs = append(allErrs, field.Invalid(dp.Key(k), k, "duplicate of key present in binaryData"))
		}
		size += len(cm.BinaryData[k])
	}
	if size > maxObjectDataBytes {
		allErrs = append(allErrs, field.TooLong(field.NewPath(""), "", maxObjectDataBytes))
	}
	return allErrs
}

// ValidateSecret checks a Secret's name and data keys and size as the API
// server's ValidateSecret does (after stringData is merged into data).
func ValidateSecret(s *corev1.Secret) field.ErrorList {
	allErrs := validateObjectName(s.Name)
	size := 0
	dp := field.NewPath("data")
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		allErrs = append(allErrs, validateDataKey(k, dp.Key(k))...)
		size += len(s.Data[k])
	}
	if size > maxObjectDataBytes {
		allErrs = append(allErrs, field.TooLong(dp, "", maxObjectDataBytes))
	}
	return allErrs
}

func validateObjectName(name string) field.ErrorList {
	p := field.NewPath("metadata", "name")
	if name == "" {
		return field.ErrorList{field.Required(p, "name or generateName is required")}
	}
	allErrs := field.ErrorList{}
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		allErrs = append(allErrs, field.Invalid(p, name, msg))
	}
	return allErrs
}

func validateDataKey(k string, p *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	for _, msg := range validation.IsConfigMapKey(k) {
		allErrs = append(allErrs, field.Invalid(p, k, msg))
	}
	return allErrs
}

// invalidObject is the decode error of a ConfigMap or Secret that fails
// validation: every field error on a line, as the API server lists them.
func invalidObject(d Document, kind, name string, errs field.ErrorList) error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%w: %s %q is invalid: %s", ErrInvalidManifest, kind, name, e.Error())
	}
	return &DecodeError{Index: d.Index, Errs: out}
}
