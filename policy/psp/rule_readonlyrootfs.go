package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// readOnlyRootFSRule requires a read-only root filesystem.
//
// Policy: spec.readOnlyRootFilesystem.
// Pod: securityContext.readOnlyRootFilesystem of every container.
//
// When the policy requires it, an unset field defaults to true and an
// explicit false is refused.
var readOnlyRootFSRule = rule{
	name:              "readonlyrootfs",
	defaultContainer:  defaultReadOnlyRootFS,
	validateContainer: validateReadOnlyRootFS,
}

func defaultReadOnlyRootFS(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container) {
	if p.Spec.ReadOnlyRootFilesystem && containerSC(c).ReadOnlyRootFilesystem == nil {
		ensureContainerSC(c).ReadOnlyRootFilesystem = ptrTo(true)
	}
}

func validateReadOnlyRootFS(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	if !p.Spec.ReadOnlyRootFilesystem {
		return nil
	}
	path = path.Child("securityContext", "readOnlyRootFilesystem")
	switch ro := containerSC(c).ReadOnlyRootFilesystem; {
	case ro == nil:
		return field.ErrorList{field.Invalid(path, ro, "ReadOnlyRootFilesystem may not be nil and must be set to true")}
	case !*ro:
		return field.ErrorList{field.Invalid(path, *ro, "ReadOnlyRootFilesystem must be set to true")}
	}
	return nil
}
