package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// procMountRule restricts the /proc mount type.
//
// Policy: spec.allowedProcMountTypes; empty allows only Default.
// Pod: securityContext.procMount of every container (unset is Default).
var procMountRule = rule{
	name:              "procmount",
	validateContainer: validateProcMount,
}

func validateProcMount(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	procMount := corev1.DefaultProcMount
	if pm := containerSC(c).ProcMount; pm != nil {
		procMount = *pm
	}
	allowed := p.Spec.AllowedProcMountTypes
	if len(allowed) == 0 {
		allowed = []corev1.ProcMountType{corev1.DefaultProcMount}
	}
	for _, pm := range allowed {
		if pm == procMount {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(path.Child("securityContext", "procMount"), procMount, "ProcMountType is not allowed")}
}
