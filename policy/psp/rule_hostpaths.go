package psp

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// hostPathsRule restricts the host paths of hostPath volumes.
//
// Policy: spec.allowedHostPaths[].pathPrefix and .readOnly; none allows any
// path.
// Pod: spec.volumes[].hostPath.path, and volumeMounts[].readOnly of every
// container mounting such a volume.
//
// A prefix matches whole path segments: "/foo" allows "/foo" and
// "/foo/bar" but not "/foobar"; trailing slashes do not count. A path that
// only read-only prefixes allow must be mounted read-only by every mount of
// the volume.
var hostPathsRule = rule{
	name:           "hostpaths",
	validateVolume: validateHostPath,
}

func validateHostPath(p *PodSecurityPolicy, pod *corev1.Pod, i int, v *corev1.Volume) field.ErrorList {
	if v.HostPath == nil {
		return nil
	}
	allowed, readOnly := allowsHostPath(p, v.HostPath.Path)
	if !allowed {
		path := field.NewPath("spec", "volumes").Index(i).Child("hostPath", "pathPrefix")
		return field.ErrorList{field.Invalid(path, v.HostPath.Path, "is not allowed to be used")}
	}
	if !readOnly {
		return nil
	}
	var allErrs field.ErrorList
	visitContainers(pod, func(c *corev1.Container, path *field.Path) {
		for j, m := range c.VolumeMounts {
			if m.Name == v.Name && !m.ReadOnly {
				allErrs = append(allErrs, field.Invalid(path.Child("volumeMounts").Index(j).Child("readOnly"), false, "must be read-only"))
			}
		}
	})
	return allErrs
}

// allowsHostPath reports whether a prefix allows the path, and whether every
// prefix that does is read-only.
func allowsHostPath(p *PodSecurityPolicy, hostPath string) (allowed, mustBeReadOnly bool) {
	if len(p.Spec.AllowedHostPaths) == 0 {
		return true, false
	}
	for _, a := range p.Spec.AllowedHostPaths {
		if !hasPathPrefix(hostPath, a.PathPrefix) {
			continue
		}
		if !a.ReadOnly {
			return true, false
		}
		allowed, mustBeReadOnly = true, true
	}
	return allowed, mustBeReadOnly
}

// hasPathPrefix reports whether s is prefix or lies under it.
func hasPathPrefix(s, prefix string) bool {
	s = strings.TrimSuffix(s, "/")
	prefix = strings.TrimSuffix(prefix, "/")
	rest, ok := strings.CutPrefix(s, prefix)
	return ok && (rest == "" || rest[0] == '/')
}
