package psp

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// seccompRule is the seccomp strategy.
//
// Policy: the annotations seccomp.security.alpha.kubernetes.io/
// allowedProfileNames (comma separated; "*" allows any; absent allows only
// an unset profile) and .../defaultProfileName. Names are those of the
// legacy annotations: "runtime/default" ("docker/default" is the same
// profile), "unconfined", "localhost/<profile>".
// Pod: spec.securityContext.seccompProfile and securityContext.seccompProfile
// of every container (the container's over the pod's), named as above; the
// legacy pod annotations count where no field is set, as in 1.24.
//
// Kubernetes 1.24 defaulted by writing the annotation
// seccomp.security.alpha.kubernetes.io/pod, which the API server then copied
// into spec.securityContext.seccompProfile. podsec reads only the field and
// refuses the annotation, so the default is written to the field directly;
// the admitted pod is the same. The errors keep the 1.24 paths, the
// annotations: pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]
// and pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/NAME].
var seccompRule = rule{
	name:              "seccomp",
	defaultPod:        defaultSeccomp,
	validatePod:       validatePodSeccomp,
	validateContainer: validateContainerSeccomp,
}

// seccompStrategy is the policy's annotations, read in place: an
// admission reads them for every container of every policy it tries.
type seccompStrategy struct {
	defaultProfile string
	allowedString  string
	listed         bool // the allowed profiles annotation is there
	allowAny       bool
}

func newSeccompStrategy(p *PodSecurityPolicy) seccompStrategy {
	s := seccompStrategy{defaultProfile: p.Annotations[SeccompDefaultProfileAnnotation]}
	s.allowedString, s.listed = p.Annotations[SeccompAllowedProfilesAnnotation]
	s.allowAny = s.listed && listContains(s.allowedString, AllowAllSeccompProfiles)
	return s
}

// allows reports whether the allowed list names the profile. Since
// seccomp went GA, docker/default is runtime/default.
func (s seccompStrategy) allows(profile string) bool {
	if !s.listed {
		return false
	}
	for name := range strings.SplitSeq(s.allowedString, ",") {
		if name != AllowAllSeccompProfiles && (name == profile || isRuntimeDefault(name) && isRuntimeDefault(profile)) {
			return true
		}
	}
	return false
}

func isRuntimeDefault(name string) bool {
	return name == profileDockerDefault || name == profileRuntimeDefault
}

func defaultSeccomp(p *PodSecurityPolicy, pod *corev1.Pod) {
	if podSC(pod).SeccompProfile != nil || pod.Annotations[corev1.SeccompPodAnnotationKey] != "" {
		return
	}
	if sp, ok := seccompField(newSeccompStrategy(p).defaultProfile); ok {
		ensurePodSC(pod).SeccompProfile = sp
	}
}

// podSeccomp is the pod's profile by its legacy name.
func podSeccomp(pod *corev1.Pod) string {
	if name := pod.Annotations[corev1.SeccompPodAnnotationKey]; name != "" {
		return name
	}
	if sp := podSC(pod).SeccompProfile; sp != nil {
		return seccompName(sp)
	}
	return ""
}

// containerSeccomp is the container's profile by its legacy name: its own
// field, its annotation, else the pod's.
func containerSeccomp(pod *corev1.Pod, c *corev1.Container) string {
	if sp := containerSC(c).SeccompProfile; sp != nil {
		return seccompName(sp)
	}
	if len(pod.Annotations) > 0 {
		if name, ok := pod.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+c.Name]; ok {
			return name
		}
	}
	if sp := podSC(pod).SeccompProfile; sp != nil {
		return seccompName(sp)
	}
	return pod.Annotations[corev1.SeccompPodAnnotationKey]
}

func validatePodSeccomp(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList {
	return newSeccompStrategy(p).check(func() *field.Path { return seccompPodPath }, podSeccomp(pod))
}

func validateContainerSeccomp(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container, _ *field.Path) field.ErrorList {
	path := func() *field.Path { return annotationsPath.Key(corev1.SeccompContainerAnnotationKeyPrefix + c.Name) }
	return newSeccompStrategy(p).check(path, containerSeccomp(pod, c))
}

// check judges a profile; path, the error's, is made only for an error.
func (s seccompStrategy) check(path func() *field.Path, profile string) field.ErrorList {
	if !s.listed && profile != "" {
		return field.ErrorList{field.Forbidden(path(), "seccomp may not be set")}
	}
	if s.allowAny || (!s.listed && profile == "") || s.allows(profile) {
		return nil
	}
	return field.ErrorList{field.Forbidden(path(), fmt.Sprintf("%s is not an allowed seccomp profile. Valid values are %v", profile, s.allowedString))}
}
