package psp

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// appArmorRule is the AppArmor strategy.
//
// Policy: the annotations apparmor.security.beta.kubernetes.io/
// allowedProfileNames (comma separated; absent allows anything) and
// .../defaultProfileName, with the legacy names "runtime/default",
// "unconfined" and "localhost/<profile>".
// Pod: securityContext.appArmorProfile of every container, else its legacy
// annotation container.apparmor.security.beta.kubernetes.io/NAME, else
// spec.securityContext.appArmorProfile, named as above.
//
// Kubernetes 1.24 had only the annotation, and defaulted by writing it;
// podsec writes the container's appArmorProfile field instead, which later
// Kubernetes copies the annotation into. Errors keep the 1.24 path,
// pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/NAME].
var appArmorRule = rule{
	name:              "apparmor",
	defaultContainer:  defaultAppArmor,
	validateContainer: validateAppArmor,
}

func containerAppArmor(pod *corev1.Pod, c *corev1.Container) string {
	if ap := containerSC(c).AppArmorProfile; ap != nil {
		return appArmorName(ap)
	}
	if len(pod.Annotations) > 0 {
		if name := pod.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+c.Name]; name != "" {
			return name
		}
	}
	if ap := podSC(pod).AppArmorProfile; ap != nil {
		return appArmorName(ap)
	}
	return ""
}

func defaultAppArmor(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container) {
	if containerAppArmor(pod, c) != "" {
		return
	}
	if ap, ok := appArmorField(p.Annotations[AppArmorDefaultProfileAnnotation]); ok {
		ensureContainerSC(c).AppArmorProfile = ap
	}
}

func validateAppArmor(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container, _ *field.Path) field.ErrorList {
	list, ok := p.Annotations[AppArmorAllowedProfilesAnnotation]
	if !ok {
		return nil
	}
	// A list always names at least one profile, if only "".
	path := func() *field.Path {
		return annotationsPath.Key(corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + c.Name)
	}
	switch profile := containerAppArmor(pod, c); {
	case profile == "":
		return field.ErrorList{field.Forbidden(path(), "AppArmor profile must be set")}
	case !listContains(list, profile):
		return field.ErrorList{field.Forbidden(path(), fmt.Sprintf("%s is not an allowed profile. Allowed values: %q", profile, list))}
	}
	return nil
}
