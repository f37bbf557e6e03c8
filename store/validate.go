package store

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podsec/podsec/policy/pss"
)

var metadataPath = field.NewPath("metadata")

// validateMeta checks what the API server checks of every object's
// metadata. Name and namespace are checked before they reach a path.
func validateMeta(k *Kind, obj Object) field.ErrorList {
	errs := validateName(k, obj.GetName())
	if k.Namespaced {
		for _, msg := range apivalidation.ValidateNamespaceName(obj.GetNamespace(), false) {
			errs = append(errs, field.Invalid(metadataPath.Child("namespace"), obj.GetNamespace(), msg))
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(obj.GetLabels(), metadataPath.Child("labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(obj.GetAnnotations(), metadataPath.Child("annotations"))...)
	return errs
}

// maxNameLength keeps NAME.json within the 255 bytes of a file name.
const maxNameLength = 250

// validateName checks a name with the kind's rule, and its length.
func validateName(k *Kind, name string) field.ErrorList {
	p := metadataPath.Child("name")
	if name == "" {
		return field.ErrorList{field.Required(p, "name or generateName is required")}
	}
	validName := k.ValidateName
	if validName == nil {
		validName = apivalidation.NameIsDNSSubdomain
	}
	var errs field.ErrorList
	for _, msg := range validName(name, false) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	if len(name) > maxNameLength {
		errs = append(errs, field.TooLong(p, "", maxNameLength))
	}
	return errs
}

// pathSegmentName is the API server's rule for RBAC names: anything that
// can be one segment of a URL path ("system:controller:x" is fine; "..",
// "a/b" and "a%b" are not).
func pathSegmentName(name string, _ bool) []string {
	return content.IsPathSegmentName(name)
}

// defaultNamespace labels a namespace with its name, as the API server has
// done since 1.21, so that namespaceSelectors can pick it by name.
func defaultNamespace(obj Object) {
	ns := obj.(*corev1.Namespace)
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
	if len(ns.Spec.Finalizers) == 0 {
		ns.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
	}
	ns.Status.Phase = corev1.NamespaceActive
}

// validateNamespace refuses invalid PodSecurity labels, as the PodSecurity
// admission plugin does when a namespace is created or relabelled.
func validateNamespace(obj Object) field.ErrorList {
	return pss.ValidateNamespaceLabels(obj.GetLabels())
}

// The API server's defaults of RBAC bindings (pkg/apis/rbac/v1/defaults.go).
func defaultRoleRef(ref *rbacv1.RoleRef) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
}

func defaultSubjects(subjects []rbacv1.Subject) {
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
			s.APIGroup = rbacv1.GroupName
		}
	}
}

func defaultClusterRoleBinding(obj Object) {
	b := obj.(*rbacv1.ClusterRoleBinding)
	defaultRoleRef(&b.RoleRef)
	defaultSubjects(b.Subjects)
}

func defaultRoleBinding(obj Object) {
	b := obj.(*rbacv1.RoleBinding)
	defaultRoleRef(&b.RoleRef)
	defaultSubjects(b.Subjects)
}

// The API server's RBAC validation (pkg/apis/rbac/validation), in part.

func validateClusterRole(obj Object) field.ErrorList {
	return validateRules(obj.(*rbacv1.ClusterRole).Rules, false)
}

func validateRole(obj Object) field.ErrorList {
	return validateRules(obj.(*rbacv1.Role).Rules, true)
}

func validateRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		p := field.NewPath("rules").Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func validateClusterRoleBinding(obj Object) field.ErrorList {
	b := obj.(*rbacv1.ClusterRoleBinding)
	errs := validateRoleRef(b.RoleRef, []string{"ClusterRole"})
	return append(errs, validateSubjects(b.Subjects, false)...)
}

func validateRoleBinding(obj Object) field.ErrorList {
	b := obj.(*rbacv1.RoleBinding)
	errs := validateRoleRef(b.RoleRef, []string{"Role", "ClusterRole"})
	return append(errs, validateSubjects(b.Subjects, true)...)
}

func validateRoleRef(ref rbacv1.RoleRef, kinds []string) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(p.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	if !slices.Contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(p.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		for _, msg := range pathSegmentName(ref.Name, false) {
			errs = append(errs, field.Invalid(p.Child("name"), ref.Name, msg))
		}
	}
	return errs
}

func validateSubjects(subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, s := range subjects {
		p := field.NewPath("subjects").Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.Name != "" {
				for _, msg := range apivalidation.NameIsDNSSubdomain(s.Name, false) {
					errs = append(errs, field.Invalid(p.Child("name"), s.Name, msg))
				}
			}
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{""}))
			}
			if !namespaced && s.Namespace == "" {
				errs = append(errs, field.Required(p.Child("namespace"), ""))
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacv1.GroupName {
				errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
		}
	}
	return errs
}
