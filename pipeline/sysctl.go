package pipeline

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SysctlRefused names the field of the pod's sysctl name (in dotted or
// slashed form) whose value the node's kernel refused, for reason:
// spec.securityContext.sysctls[i].value. Kubernetes' validation checks
// sysctl names only and leaves values to the node. It returns nil when
// the pod sets no sysctl of that name.
func (p *Plan) SysctlRefused(name, reason string) error {
	sc := p.Pod.Spec.SecurityContext
	if sc == nil {
		return nil
	}
	for i, s := range sc.Sysctls {
		if s.Name == name || strings.ReplaceAll(s.Name, "/", ".") == name {
			path := field.NewPath("spec", "securityContext", "sysctls").Index(i).Child("value")
			return field.Invalid(path, s.Value, "the node's kernel refused it: "+reason)
		}
	}
	return nil
}
