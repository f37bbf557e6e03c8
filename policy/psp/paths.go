package psp

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Field paths the rules name, made once rather than for every policy an
// admission tries. A *field.Path is never changed: Child, Index and Key
// make new ones.
var (
	annotationsPath        = field.NewPath("pod", "metadata", "annotations")
	seccompPodPath         = annotationsPath.Key("seccomp.security.alpha.kubernetes.io/pod")
	podSCPath              = field.NewPath("spec", "securityContext")
	fsGroupPath            = podSCPath.Child("fsGroup")
	supplementalGroupsPath = podSCPath.Child("supplementalGroups")
	podSELinuxPath         = podSCPath.Child("seLinuxOptions")
	sysctlsPath            = field.NewPath("pod", "spec", "securityContext", "sysctls")
	volumesPath            = field.NewPath("spec", "volumes")
)

// listContains reports whether the comma-separated list of an annotation
// has the name, without splitting it into a new slice.
func listContains(list, name string) bool {
	for n := range strings.SplitSeq(list, ",") {
		if n == name {
			return true
		}
	}
	return false
}
