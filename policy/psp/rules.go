package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// rule is one check of a policy, with the defaults that go with it. Every
// hook is optional.
type rule struct {
	name string

	// build reports why the policy cannot be turned into this rule's
	// strategy (Kubernetes' strategy factory failing, for instance
	// MustRunAs without ranges). Such a policy admits nothing.
	build func(p *PodSecurityPolicy) error

	// defaultPod and defaultContainer fill in unset fields of the pod, the
	// way the provider's MutatePod did; pod-level defaults all run before
	// any container's. They may write only the fields of the pod's and
	// the containers' securityContexts (through ensurePodSC and
	// ensureContainerSC, replacing a field, never writing through its
	// pointer) and spec.runtimeClassName: admission runs them on a scratch
	// pod that copies only these (scratch.go) and shares the rest with the
	// request's pod. TestTryIsDefaultingACopy fails when a default writes
	// elsewhere.
	defaultPod       func(p *PodSecurityPolicy, pod *corev1.Pod)
	defaultContainer func(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container)

	// validatePod checks the pod as a whole; validateVolume checks volume i
	// (the first rule that reports an error for a volume ends that
	// volume's checks, as Kubernetes moved to the next volume); and
	// validateContainer checks one container, init or ephemeral container,
	// at path (spec.containers[0] and the like).
	validatePod       func(p *PodSecurityPolicy, pod *corev1.Pod) field.ErrorList
	validateVolume    func(p *PodSecurityPolicy, pod *corev1.Pod, i int, v *corev1.Volume) field.ErrorList
	validateContainer func(p *PodSecurityPolicy, pod *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList
}

// rules is every check, in the order Kubernetes 1.24 reported their errors:
// the container checks in the order of the provider's validateContainer,
// the pod checks in the order of its ValidatePod. One table cannot hold both
// orders exactly: pod-level seLinux errors come here before pod-level
// seccomp errors, where 1.24 had them the other way round, and Build lists
// an SELinux strategy error after the fsGroup and supplementalGroups ones.
var rules = []rule{
	userRule,
	groupRule,
	fsGroupRule,
	supplementalGroupsRule,
	seLinuxRule,
	appArmorRule,
	seccompRule,
	privilegedRule,
	procMountRule,
	capabilitiesRule,
	hostPortsRule,
	readOnlyRootFSRule,
	privilegeEscalationRule,
	hostNamespacesRule,
	sysctlsRule,
	volumesRule,
	hostPathsRule,
	flexVolumesRule,
	csiDriversRule,
	runtimeClassRule,
}
