package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// runtimeClassRule restricts and defaults the RuntimeClass.
//
// Policy: spec.runtimeClass.allowedRuntimeClassNames ("*" allows any) and
// spec.runtimeClass.defaultRuntimeClassName; no runtimeClass allows any.
// Pod: spec.runtimeClassName. An unset name is always allowed; a pod with
// none gets the default.
var runtimeClassRule = rule{
	name:        "runtimeclass",
	defaultPod:  defaultRuntimeClass,
	validatePod: validateRuntimeClass,
}

func defaultRuntimeClass(p *PodSecurityPolicy, pod *corev1.Pod) {
	if rc := p.Spec.RuntimeClass; rc != nil && pod.Spec.RuntimeClassName == nil && rc.DefaultRuntimeClassName != nil {
		pod.Spec.RuntimeClassName = ptrTo(*rc.DefaultRuntimeClassName)
	}
}

func validateRuntimeClass(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList {
	rc, name := p.Spec.RuntimeClass, pod.Spec.RuntimeClassName
	if rc == nil || name == nil {
		return nil
	}
	for _, allowed := range rc.AllowedRuntimeClassNames {
		if allowed == AllowAllRuntimeClassNames || allowed == *name {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec", "runtimeClassName"), *name, "")}
}
