package spec

import (
	"math"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateOptions describes what the node can enforce and which rules
// apply.
type ValidateOptions struct {
	SELinuxEnabled  bool // an SELinux LSM is active on the node
	AppArmorEnabled bool // an AppArmor LSM is active on the node
	// Scope picks the API server's rules, this node's, or both (the zero
	// value). Admission (podsec admit, the webhook) validates with the
	// API server's alone: what this node can mount or enforce is not the
	// cluster's decision.
	Scope Scope
}

// ValidatePod returns every problem of the (already defaulted) pod, each with
// its field path, in the form of the Kubernetes API server
// (pkg/apis/core/validation). It never stops at the first problem.
//
// Besides the API server's rules (opts.Scope) it rejects what podsec cannot
// run or cannot enforce: volume types other than emptyDir and hostPath, sysctls that are
// not namespaced, Windows pods, and SELinux or AppArmor settings on a node
// whose LSM (per opts) is not active. An empty enumeration (restartPolicy,
// dnsPolicy, port protocol, imagePullPolicy) is taken as its Kubernetes
// default, so that a pod that skipped defaulting is not rejected for it.
func ValidatePod(pod *corev1.Pod, opts ValidateOptions) field.ErrorList {
	if pod == nil {
		return field.ErrorList{field.Required(field.NewPath("spec"), "a pod is required")}
	}
	allErrs := field.ErrorList{}
	for _, check := range podChecks {
		allErrs = append(allErrs, check(pod, opts)...)
	}
	if opts.Scope == ScopeNode {
		return nodeOnly(allErrs, ValidatePod(pod, ValidateOptions{Scope: ScopeAPIServer}))
	}
	return allErrs
}

// podCheck is one group of rules of ValidatePod.
type podCheck func(pod *corev1.Pod, opts ValidateOptions) field.ErrorList

// podChecks are the rules of ValidatePod, in an explicit order so that
// the errors come out in the same order on every run.
var podChecks = []podCheck{
	validateObjectMeta,
	validateSecurityAnnotations,
	validateVolumes,
	validateContainerNames,
	validateContainers,
	validateHostPorts,
	validatePodFields,
	validateHostNamespaces,
	validatePodSecurityContext,
	validateSysctls,
}

// ctrRef is a container of the pod with its field path.
type ctrRef struct {
	c    *corev1.Container
	path *field.Path // spec.containers[i] or spec.initContainers[i]
	init bool
}

// validationContainers returns the init containers then the app
// containers, in the order in which they run.
func validationContainers(spec *corev1.PodSpec) []ctrRef {
	refs := make([]ctrRef, 0, len(spec.InitContainers)+len(spec.Containers))
	p := field.NewPath("spec")
	for i := range spec.InitContainers {
		refs = append(refs, ctrRef{c: &spec.InitContainers[i], path: p.Child("initContainers").Index(i), init: true})
	}
	for i := range spec.Containers {
		refs = append(refs, ctrRef{c: &spec.Containers[i], path: p.Child("containers").Index(i)})
	}
	return refs
}

func validateObjectMeta(pod *corev1.Pod, _ ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	p := field.NewPath("metadata")
	if pod.Name == "" {
		allErrs = append(allErrs, field.Required(p.Child("name"), "name or generateName is required"))
	} else {
		for _, msg := range apivalidation.NameIsDNSSubdomain(pod.Name, false) {
			allErrs = append(allErrs, field.Invalid(p.Child("name"), pod.Name, msg))
		}
	}
	// An empty namespace is the caller's "default"; it is not an error here.
	if pod.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(pod.Namespace) {
			allErrs = append(allErrs, field.Invalid(p.Child("namespace"), pod.Namespace, msg))
		}
	}
	for _, k := range sortedMapKeys(pod.Labels) {
		allErrs = append(allErrs, metav1validation.ValidateLabels(map[string]string{k: pod.Labels[k]}, p.Child("labels"))...)
	}
	for _, k := range sortedMapKeys(pod.Annotations) {
		allErrs = append(allErrs, apivalidation.ValidateAnnotations(map[string]string{k: pod.Annotations[k]}, p.Child("annotations"))...)
	}
	if err := apivalidation.ValidateAnnotationsSize(pod.Annotations); err != nil {
		allErrs = append(allErrs, field.TooLong(p.Child("annotations"), "", apivalidation.TotalAnnotationSizeLimitB))
	}
	return allErrs
}

// validateContainerNames checks that every container has a DNS-1123 label
// for a name, unique in the pod. Like the API server, it reports a name an
// init container shares with an app container at the init container.
func validateContainerNames(pod *corev1.Pod, _ ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	spec := &pod.Spec
	p := field.NewPath("spec")
	if len(spec.Containers) == 0 {
		allErrs = append(allErrs, field.Required(p.Child("containers"), ""))
	}
	seen := map[string]bool{}
	check := func(name string, np *field.Path) {
		switch {
		case name == "":
			allErrs = append(allErrs, field.Required(np, ""))
			return
		case seen[name]:
			allErrs = append(allErrs, field.Duplicate(np, name))
		}
		seen[name] = true
		for _, msg := range validation.IsDNS1123Label(name) {
			allErrs = append(allErrs, field.Invalid(np, name, msg))
		}
	}
	for i := range spec.Containers {
		check(spec.Containers[i].Name, p.Child("containers").Index(i).Child("name"))
	}
	for i := range spec.InitContainers {
		check(spec.InitContainers[i].Name, p.Child("initContainers").Index(i).Child("name"))
	}
	if len(spec.EphemeralContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(p.Child("ephemeralContainers"), "cannot be set on create; podsec does not support ephemeral containers"))
	}
	return allErrs
}

var (
	restartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
	dnsPolicies     = []corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone}
	osNames         = []corev1.OSName{corev1.Linux, corev1.Windows}
)

// maxDNSNameservers is the limit of glibc's resolver (MAXNS), as in Kubernetes.
const maxDNSNameservers = 3

func validatePodFields(pod *corev1.Pod, opts ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	spec := &pod.Spec
	p := field.NewPath("spec")

	if spec.RestartPolicy != "" && !isOneOf(restartPolicies, spec.RestartPolicy) {
		allErrs = append(allErrs, field.NotSupported(p.Child("restartPolicy"), spec.RestartPolicy, restartPolicies))
	}
	if spec.DNSPolicy != "" && !isOneOf(dnsPolicies, spec.DNSPolicy) {
		allErrs = append(allErrs, field.NotSupported(p.Child("dnsPolicy"), spec.DNSPolicy, dnsPolicies))
	}
	allErrs = append(allErrs, validateDNSConfig(spec, p.Child("dnsConfig"))...)
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, apivalidation.IsNegativeErrorMsg))
	}
	if d := spec.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxUint32) {
		allErrs = append(allErrs, field.Invalid(p.Child("activeDeadlineSeconds"), *d, validation.InclusiveRangeError(1, math.MaxUint32)))
	}
	for _, f := range []struct{ name, value string }{{"hostname", spec.Hostname}, {"subdomain", spec.Subdomain}} {
		if f.value == "" {
			continue
		}
		for _, msg := range validation.IsDNS1123Label(f.value) {
			allErrs = append(allErrs, field.Invalid(p.Child(f.name), f.value, msg))
		}
	}
	if spec.OS != nil {
		switch spec.OS.Name {
		case corev1.Linux:
		case corev1.Windows:
			allErrs = append(allErrs, opts.node(field.Forbidden(p.Child("os", "name"), "podsec runs Linux pods only"))...)
		default:
			allErrs = append(allErrs, field.NotSupported(p.Child("os", "name"), spec.OS.Name, osNames))
		}
	}
	return allErrs
}

func validateDNSConfig(spec *corev1.PodSpec, p *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	if spec.DNSPolicy == corev1.DNSNone && (spec.DNSConfig == nil || len(spec.DNSConfig.Nameservers) == 0) {
		allErrs = append(allErrs, field.Required(p.Child("nameservers"), "must provide at least one DNS nameserver when DNSPolicy is None"))
	}
	if spec.DNSConfig == nil {
		return allErrs
	}
	ns := spec.DNSConfig.Nameservers
	if len(ns) > maxDNSNameservers {
		allErrs = append(allErrs, field.Invalid(p.Child("nameservers"), ns, "must not have more than 3 nameservers"))
	}
	for i, s := range ns {
		allErrs = append(allErrs, validation.IsValidIP(p.Child("nameservers").Index(i), s)...)
	}
	for i, o := range spec.DNSConfig.Options {
		if o.Name == "" {
			allErrs = append(allErrs, field.Required(p.Child("options").Index(i).Child("name"), "must not be empty"))
		}
	}
	return allErrs
}

// validateHostNamespaces checks the combinations of host namespaces that
// Kubernetes refuses: a shared process namespace cannot be the host's, and
// a user namespace cannot go with a host namespace (validateHostUsers).
func validateHostNamespaces(pod *corev1.Pod, _ ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	spec := &pod.Spec
	p := field.NewPath("spec")
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace && spec.HostPID {
		allErrs = append(allErrs, field.Invalid(p.Child("shareProcessNamespace"), true, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	return append(allErrs, validateHostUsers(spec, p)...)
}

// hostUsersFields are the host namespaces a pod with hostUsers: false may
// not share, with the path element the API server names each by. Its
// validateHostUsers (pkg/apis/core/validation) writes "HostPID" and
// "HostIPC" capitalised, so kubectl shows spec.HostPID; podsec prints the
// same bytes so that an error matches the cluster's word for word.
var hostUsersFields = []struct {
	child string
	on    func(*corev1.PodSpec) bool
}{
	{"hostNetwork", func(s *corev1.PodSpec) bool { return s.HostNetwork }},
	{"HostPID", func(s *corev1.PodSpec) bool { return s.HostPID }},
	{"HostIPC", func(s *corev1.PodSpec) bool { return s.HostIPC }},
}

// validateHostUsers is the API server's check of a pod in a user
// namespace of its own (hostUsers: false): no host network, PID or IPC
// namespace (Kubernetes decided these are not worth the permission
// surprises; the UserNamespacesHostNetworkSupport gate that lifts the
// hostNetwork rule is alpha and off by default).
//
// Volumes are not restricted. Kubernetes 1.25 to 1.27 allowed only
// configMap, secret, downwardAPI, emptyDir and projected volumes with
// hostUsers: false (volumes no other pod could share); 1.28 dropped the
// rule when the kubelet moved to idmapped mounts, and every later release
// accepts any volume type. podsec follows current Kubernetes, where the
// node idmaps each volume (or says why it cannot).
func validateHostUsers(spec *corev1.PodSpec, p *field.Path) field.ErrorList {
	if podUsesHostUsers(spec) {
		return nil
	}
	allErrs := field.ErrorList{}
	for _, f := range hostUsersFields {
		if f.on(spec) {
			allErrs = append(allErrs, field.Forbidden(p.Child(f.child), "when `pod.Spec.HostUsers` is false"))
		}
	}
	return allErrs
}

// podUsesHostUsers reports whether the pod runs in the host's user namespace, the
// default when spec.hostUsers is unset.
func podUsesHostUsers(spec *corev1.PodSpec) bool {
	return spec.HostUsers == nil || *spec.HostUsers
}

// isOneOf reports whether v is in list.
func isOneOf[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// sortedMapKeys returns the keys of m in order, so that errors about a map
// come out the same on every run.
func sortedMapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validateLocalDescendingPath checks that p is a relative path that stays
// below its base: not absolute and without a ".." element.
func validateLocalDescendingPath(p string, fldPath *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	if strings.HasPrefix(p, "/") {
		allErrs = append(allErrs, field.Invalid(fldPath, p, "must be a relative path"))
	}
	allErrs = append(allErrs, validatePathNoBacksteps(p, fldPath)...)
	return allErrs
}

// validatePathNoBacksteps checks that p has no ".." element.
func validatePathNoBacksteps(p string, fldPath *field.Path) field.ErrorList {
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			// One error is enough even for "../../..".
			return field.ErrorList{field.Invalid(fldPath, p, "must not contain '..'")}
		}
	}
	return nil
}
