package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// safeSysctl is a sysctl the kubelet allows every pod, from the kernel
// release where it became namespaced (and so isolated from other pods).
type safeSysctl struct {
	name   string
	kernel [2]int // major, minor; zero when always namespaced
}

// safeSysctls is the kubelet's safe set (k8s.io/kubernetes
// pkg/kubelet/sysctl/safe_sysctls.go of 1.37, the release of podsec's
// k8s.io/api), with the kernel gates of pkg/util/kernel/constants.go.
var safeSysctls = []safeSysctl{
	{name: "kernel.shm_rmid_forced"},
	{name: "net.ipv4.ip_local_port_range"},
	{name: "net.ipv4.tcp_syncookies"},
	{name: "net.ipv4.ping_group_range"},
	{name: "net.ipv4.ip_unprivileged_port_start"},
	{name: "net.ipv4.ip_local_reserved_ports", kernel: [2]int{3, 16}},
	{name: "net.ipv4.tcp_keepalive_time", kernel: [2]int{4, 5}},
	{name: "net.ipv4.tcp_fin_timeout", kernel: [2]int{4, 6}},
	{name: "net.ipv4.tcp_keepalive_intvl", kernel: [2]int{4, 5}},
	{name: "net.ipv4.tcp_keepalive_probes", kernel: [2]int{4, 5}},
	{name: "net.ipv4.tcp_rmem", kernel: [2]int{4, 15}},
	{name: "net.ipv4.tcp_wmem", kernel: [2]int{4, 15}},
	{name: "net.ipv4.tcp_slow_start_after_idle", kernel: [2]int{4, 15}},
	{name: "net.ipv4.tcp_notsent_lowat", kernel: [2]int{4, 6}},
}

// sysctlPatternRegexp is a sysctl name whose last segment may end in "*",
// as k8s.io/kubernetes pkg/apis/policy/validation.IsValidSysctlPattern.
var sysctlPatternRegexp = regexp.MustCompile("^(" + sysctlSegmentFmt + "[\\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$")

// SysctlAllowlist is the node's rule for pod sysctls, as the kubelet's
// sysctl admit handler applies it before it runs a pod: the safe set for
// the node's kernel plus the names and prefixes of --allowed-unsafe-sysctls.
// Every other sysctl, namespaced or not, is refused. It is a node decision:
// admission (podsec admit, the webhook) does not apply it.
type SysctlAllowlist struct {
	sysctls  map[string]sysctlNamespace
	prefixes map[string]sysctlNamespace
	tooOld   map[string]string // safe sysctls this kernel does not namespace, with the release they need
}

// NewSysctlAllowlist returns the allowlist of a node whose kernel release
// (uname -r) is kernelRelease, with the --allowed-unsafe-sysctls patterns
// unsafe: names, or prefixes ending in "*" ("net.core.*", "kernel.msg*").
// As the kubelet, it refuses a pattern that is malformed or not known to be
// namespaced, and leaves out the safe sysctls a kernel too old (or of an
// unknown release) does not namespace.
func NewSysctlAllowlist(kernelRelease string, unsafe []string) (*SysctlAllowlist, error) {
	a := &SysctlAllowlist{sysctls: map[string]sysctlNamespace{}, prefixes: map[string]sysctlNamespace{}, tooOld: map[string]string{}}
	major, minor, known := parseKernelRelease(kernelRelease)
	for _, s := range safeSysctls {
		if s.kernel != [2]int{} && (!known || major < s.kernel[0] || major == s.kernel[0] && minor < s.kernel[1]) {
			a.tooOld[s.name] = fmt.Sprintf("%d.%d", s.kernel[0], s.kernel[1])
			continue
		}
		a.sysctls[s.name] = namespaceOfSysctl(s.name)
	}
	for _, p := range unsafe {
		if len(p) > sysctlMaxLength || !sysctlPatternRegexp.MatchString(p) {
			return nil, fmt.Errorf("--allowed-unsafe-sysctls: Invalid value: %q: must have at most %d characters and match regex %s", p, sysctlMaxLength, sysctlPatternRegexp)
		}
		name := normalizeSysctlName(p)
		if prefix, ok := strings.CutSuffix(name, "*"); ok {
			ns := namespaceOfSysctl(prefix)
			if ns == sysctlNotNamespaced {
				return nil, fmt.Errorf("--allowed-unsafe-sysctls: Invalid value: %q: the sysctls are not known to be namespaced", p)
			}
			a.prefixes[prefix] = ns
			continue
		}
		ns := namespaceOfSysctl(name)
		if ns == sysctlNotNamespaced {
			return nil, fmt.Errorf("--allowed-unsafe-sysctls: Invalid value: %q: the sysctl is not known to be namespaced", p)
		}
		a.sysctls[name] = ns
		delete(a.tooOld, name)
	}
	return a, nil
}

// parseKernelRelease reads the major and minor numbers of a release such as
// "6.1.0-18-amd64"; known is false when it has none.
func parseKernelRelease(release string) (major, minor int, known bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	end := strings.IndexFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(parts[1])
	}
	minor, err2 := strconv.Atoi(parts[1][:end])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return major, minor, true
}

// namespaceOf returns whether the allowlist holds the sysctl (in dotted
// form), and the namespace of the entry that holds it.
func (a *SysctlAllowlist) namespaceOf(name string) (sysctlNamespace, bool) {
	if ns, ok := a.sysctls[name]; ok {
		return ns, true
	}
	for p, ns := range a.prefixes {
		if strings.HasPrefix(name, p) {
			return ns, true
		}
	}
	return sysctlNotNamespaced, false
}

// ValidatePod returns an error for each sysctl of the pod the node refuses,
// where the kubelet fails the pod with reason SysctlForbidden: one not on
// the allowlist, or one of a namespace the pod shares with the node.
func (a *SysctlAllowlist) ValidatePod(pod *corev1.Pod) field.ErrorList {
	if pod == nil || pod.Spec.SecurityContext == nil {
		return nil
	}
	allErrs := field.ErrorList{}
	p := field.NewPath("spec", "securityContext", "sysctls")
	for i, s := range pod.Spec.SecurityContext.Sysctls {
		np := p.Index(i).Child("name")
		name := normalizeSysctlName(s.Name)
		ns, ok := a.namespaceOf(name)
		switch {
		case !ok && a.tooOld[name] != "":
			allErrs = append(allErrs, field.Forbidden(np, fmt.Sprintf("sysctl %q is not namespaced by this node's kernel (it needs Linux %s) and is not allowed on this node (--allowed-unsafe-sysctls)", s.Name, a.tooOld[name])))
		case !ok:
			allErrs = append(allErrs, field.Forbidden(np, fmt.Sprintf("unsafe sysctl %q is not allowed on this node (--allowed-unsafe-sysctls)", s.Name)))
		case ns == sysctlNet && pod.Spec.HostNetwork:
			allErrs = append(allErrs, field.Forbidden(np, fmt.Sprintf("sysctl %q is not allowed with the host's network namespace (hostNetwork)", s.Name)))
		case ns == sysctlIPC && pod.Spec.HostIPC:
			allErrs = append(allErrs, field.Forbidden(np, fmt.Sprintf("sysctl %q is not allowed with the host's IPC namespace (hostIPC)", s.Name)))
		}
	}
	return allErrs
}
