package spec

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	// sysctlSegmentFmt is one segment of a sysctl name, as in Kubernetes.
	sysctlSegmentFmt = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
	// sysctlNameFmt is a sysctl name with dots or slashes for separators.
	sysctlNameFmt = "(" + sysctlSegmentFmt + "[\\./])*" + sysctlSegmentFmt
	// sysctlMaxLength is the longest sysctl name Kubernetes accepts.
	sysctlMaxLength = 253
)

var sysctlNameRegexp = regexp.MustCompile("^" + sysctlNameFmt + "$")

// sysctlNamespace is the kernel namespace a sysctl belongs to.
type sysctlNamespace int

const (
	sysctlNotNamespaced sysctlNamespace = iota
	sysctlIPC
	sysctlNet
)

// sysctlPrefixes are the namespaced sysctls, by name prefix, as in
// k8s.io/component-helpers/node/util/sysctl. Only these can be set for a pod
// without changing the node.
var sysctlPrefixes = []struct {
	prefix string
	ns     sysctlNamespace
}{
	{"kernel.shm", sysctlIPC},
	{"kernel.msg", sysctlIPC},
	{"fs.mqueue.", sysctlIPC},
	{"net.", sysctlNet},
}

// normalizeSysctlName turns the slashed form of a sysctl name
// ("net/ipv4/conf/eth0.100/forwarding") into the dotted one
// ("net.ipv4.conf.eth0/100.forwarding"), as sysctl(8) does.
func normalizeSysctlName(name string) string {
	i := strings.IndexAny(name, "./")
	if i < 0 || name[i] == '.' {
		return name
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, name)
}

// namespaceOfSysctl returns the namespace of a sysctl in dotted form.
func namespaceOfSysctl(name string) sysctlNamespace {
	if name == "kernel.sem" {
		return sysctlIPC
	}
	for _, p := range sysctlPrefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.ns
		}
	}
	return sysctlNotNamespaced
}

// validateSysctls checks spec.securityContext.sysctls: well-formed, unique
// names of namespaced sysctls, not of a namespace the pod shares with the
// host (that would change the node), each with a value. The API server
// leaves the namespaced check to the kubelet; podsec is both.
func validateSysctls(pod *corev1.Pod, opts ValidateOptions) field.ErrorList {
	sc := pod.Spec.SecurityContext
	if sc == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	p := field.NewPath("spec", "securityContext", "sysctls")
	seen := map[string]bool{}
	for i, s := range sc.Sysctls {
		np := p.Index(i).Child("name")
		if s.Value == "" {
			allErrs = append(allErrs, field.Required(p.Index(i).Child("value"), ""))
		}
		if s.Name == "" {
			allErrs = append(allErrs, field.Required(np, ""))
			continue
		}
		if len(s.Name) > sysctlMaxLength || !sysctlNameRegexp.MatchString(s.Name) {
			allErrs = append(allErrs, field.Invalid(np, s.Name, fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, sysctlNameRegexp)))
			continue
		}
		name := normalizeSysctlName(s.Name)
		if seen[name] {
			allErrs = append(allErrs, field.Duplicate(np, s.Name))
		}
		seen[name] = true
		switch namespaceOfSysctl(name) {
		case sysctlNotNamespaced:
			allErrs = append(allErrs, opts.node(field.Forbidden(np, fmt.Sprintf("sysctl %q is not known to be namespaced; a pod may only set kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* and net.*", s.Name)))...)
		case sysctlNet:
			if pod.Spec.HostNetwork {
				allErrs = append(allErrs, field.Forbidden(np, "may not be specified when 'hostNetwork' is true"))
			}
		case sysctlIPC:
			if pod.Spec.HostIPC {
				allErrs = append(allErrs, field.Forbidden(np, "may not be specified when 'hostIPC' is true"))
			}
		}
	}
	return allErrs
}
