package image

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// LocalRegistry is the registry name of images built or loaded on this
// node, as podman names them: there is nothing to pull them from.
// ("localhost:5000/" is a real registry.)
const LocalRegistry = "localhost/"

// PullPolicyFor is the pull policy Ensure applies to ref: Always means
// the local copy for an image of LocalRegistry, so that a pod naming
// "localhost/busybox:latest" (Always by the API server's defaults) runs
// the loaded image instead of asking https://localhost/ for it.
func PullPolicyFor(ref string, policy corev1.PullPolicy) corev1.PullPolicy {
	if policy == corev1.PullAlways && strings.HasPrefix(ref, LocalRegistry) {
		return corev1.PullIfNotPresent
	}
	return policy
}
