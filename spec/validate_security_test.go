package spec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidatePodIDs(t *testing.T) {
	const tooBig = int64(2147483648)
	runValidateCases(t, []validateCase{
		{"pod runAsUser", nil, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = valPtr(int64(-1)) }, []wantErr{{"spec.securityContext.runAsUser", field.ErrorTypeInvalid}}},
		{"pod runAsUser max", nil, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = valPtr(tooBig - 1) }, nil},
		{"pod runAsGroup", nil, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsGroup = valPtr(tooBig) }, []wantErr{{"spec.securityContext.runAsGroup", field.ErrorTypeInvalid}}},
		{"fsGroup", nil, func(p *corev1.Pod) { p.Spec.SecurityContext.FSGroup = valPtr(int64(-2)) }, []wantErr{{"spec.securityContext.fsGroup", field.ErrorTypeInvalid}}},
		{"supplementalGroups", nil, func(p *corev1.Pod) { p.Spec.SecurityContext.SupplementalGroups = []int64{1, tooBig, -1} }, []wantErr{
			{"spec.securityContext.supplementalGroups[1]", field.ErrorTypeInvalid},
			{"spec.securityContext.supplementalGroups[2]", field.ErrorTypeInvalid},
		}},
		{"container runAsUser", nil, func(p *corev1.Pod) { app(p).SecurityContext.RunAsUser = valPtr(tooBig) }, []wantErr{{"spec.containers[0].securityContext.runAsUser", field.ErrorTypeInvalid}}},
		{"init container runAsGroup", nil, func(p *corev1.Pod) { p.Spec.InitContainers[0].SecurityContext.RunAsGroup = valPtr(int64(-1)) }, []wantErr{{"spec.initContainers[0].securityContext.runAsGroup", field.ErrorTypeInvalid}}},
		// The runtime, not validation, refuses this one (as in Kubernetes).
		{"runAsNonRoot with root", nil, func(p *corev1.Pod) { app(p).SecurityContext.RunAsUser = valPtr(int64(0)) }, nil},
		{"supplementalGroupsPolicy", nil, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SupplementalGroupsPolicy = valPtr(corev1.SupplementalGroupsPolicy("Loose"))
		}, []wantErr{{"spec.securityContext.supplementalGroupsPolicy", field.ErrorTypeNotSupported}}},
		{"fsGroupChangePolicy", nil, func(p *corev1.Pod) {
			p.Spec.SecurityContext.FSGroupChangePolicy = valPtr(corev1.PodFSGroupChangePolicy("Never"))
		}, []wantErr{{"spec.securityContext.fsGroupChangePolicy", field.ErrorTypeNotSupported}}},
		{"seLinuxChangePolicy", nil, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxChangePolicy = valPtr(corev1.PodSELinuxChangePolicy("Lazy"))
		}, []wantErr{{"spec.securityContext.seLinuxChangePolicy", field.ErrorTypeNotSupported}}},
	})
}

func TestValidatePodCapabilities(t *testing.T) {
	caps := func(add ...corev1.Capability) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			app(p).SecurityContext.Capabilities = &corev1.Capabilities{Add: add, Drop: []corev1.Capability{"ALL"}}
		}
	}
	runValidateCases(t, []validateCase{
		{"any spelling", nil, caps("net_admin", "CAP_SYS_TIME", "Kill", "all"), nil},
		{"unknown add", nil, caps("CHOWN", "CAP_FLY"), []wantErr{{"spec.containers[0].securityContext.capabilities.add[1]", field.ErrorTypeInvalid}}},
		{"empty add", nil, caps(""), []wantErr{{"spec.containers[0].securityContext.capabilities.add[0]", field.ErrorTypeInvalid}}},
		{"unknown drop", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].SecurityContext.Capabilities.Drop = []corev1.Capability{"ALL", "NET-RAW"}
		}, []wantErr{{"spec.initContainers[0].securityContext.capabilities.drop[1]", field.ErrorTypeInvalid}}},
	})
}

func TestValidatePodPrivilegeEscalation(t *testing.T) {
	ape := "spec.containers[0].securityContext.allowPrivilegeEscalation"
	add := func(c corev1.Capability) func(*corev1.Pod) {
		return func(p *corev1.Pod) { app(p).SecurityContext.Capabilities.Add = []corev1.Capability{"CHOWN", c} }
	}
	runValidateCases(t, []validateCase{
		{"privileged", nil, func(p *corev1.Pod) { app(p).SecurityContext.Privileged = valPtr(true) }, []wantErr{{ape, field.ErrorTypeInvalid}}},
		{"privileged, escalation allowed", nil, func(p *corev1.Pod) {
			app(p).SecurityContext.Privileged = valPtr(true)
			app(p).SecurityContext.AllowPrivilegeEscalation = valPtr(true)
		}, nil},
		{"privileged, escalation unset", nil, func(p *corev1.Pod) {
			app(p).SecurityContext.Privileged = valPtr(true)
			app(p).SecurityContext.AllowPrivilegeEscalation = nil
		}, nil},
		{"CAP_SYS_ADMIN", nil, add("CAP_SYS_ADMIN"), []wantErr{{ape, field.ErrorTypeInvalid}}},
		{"SYS_ADMIN", nil, add("SYS_ADMIN"), []wantErr{{ape, field.ErrorTypeInvalid}}},
		{"sys_admin", nil, add("sys_admin"), []wantErr{{ape, field.ErrorTypeInvalid}}},
		{"privileged and sys_admin", nil, func(p *corev1.Pod) {
			add("sys_admin")(p)
			app(p).SecurityContext.Privileged = valPtr(true)
		}, []wantErr{{ape, field.ErrorTypeInvalid}, {ape, field.ErrorTypeInvalid}}},
		{"dropped SYS_ADMIN", nil, func(p *corev1.Pod) {
			app(p).SecurityContext.Capabilities.Drop = []corev1.Capability{"SYS_ADMIN"}
		}, nil},
		{"init container", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].SecurityContext.Privileged = valPtr(true)
		}, []wantErr{{"spec.initContainers[0].securityContext.allowPrivilegeEscalation", field.ErrorTypeInvalid}}},
	})
}

func TestValidatePodProcMount(t *testing.T) {
	pm := "spec.containers[0].securityContext.procMount"
	runValidateCases(t, []validateCase{
		{"Unmasked in a user namespace", nil, nil, nil},
		{"Unmasked with host users", nil, func(p *corev1.Pod) { p.Spec.HostUsers = valPtr(true) }, []wantErr{{pm, field.ErrorTypeInvalid}}},
		{"Unmasked with hostUsers unset", nil, func(p *corev1.Pod) { p.Spec.HostUsers = nil }, []wantErr{{pm, field.ErrorTypeInvalid}}},
		{"Default with host users", nil, func(p *corev1.Pod) {
			p.Spec.HostUsers = nil
			app(p).SecurityContext.ProcMount = valPtr(corev1.DefaultProcMount)
		}, nil},
		{"unknown", nil, func(p *corev1.Pod) {
			app(p).SecurityContext.ProcMount = valPtr(corev1.ProcMountType("Masked"))
		}, []wantErr{{pm, field.ErrorTypeNotSupported}}},
	})
}

func TestValidatePodSeccomp(t *testing.T) {
	ctr := "spec.containers[0].securityContext.seccompProfile"
	pod := "spec.securityContext.seccompProfile"
	set := func(sp *corev1.SeccompProfile) func(*corev1.Pod) {
		return func(p *corev1.Pod) { app(p).SecurityContext.SeccompProfile = sp }
	}
	local := func(path string) *corev1.SeccompProfile {
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &path}
	}
	runValidateCases(t, []validateCase{
		{"Unconfined", nil, set(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}), nil},
		{"no type", nil, set(&corev1.SeccompProfile{}), []wantErr{{ctr + ".type", field.ErrorTypeRequired}}},
		{"unknown type", nil, set(&corev1.SeccompProfile{Type: "Strict"}), []wantErr{{ctr + ".type", field.ErrorTypeNotSupported}}},
		{"Localhost without profile", nil, set(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}), []wantErr{{ctr + ".localhostProfile", field.ErrorTypeRequired}}},
		{"Localhost empty profile", nil, set(local("")), []wantErr{{ctr + ".localhostProfile", field.ErrorTypeRequired}}},
		{"Localhost absolute", nil, set(local("/etc/seccomp.json")), []wantErr{{ctr + ".localhostProfile", field.ErrorTypeInvalid}}},
		{"Localhost backsteps", nil, set(local("profiles/../../etc/x.json")), []wantErr{{ctr + ".localhostProfile", field.ErrorTypeInvalid}}},
		{"Localhost dotdot in a name", nil, set(local("profiles/..x.json")), nil},
		{"profile with RuntimeDefault", nil, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile.LocalhostProfile = valPtr("x.json")
		}, []wantErr{{pod + ".localhostProfile", field.ErrorTypeInvalid}}},
		{"pod unknown type", nil, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile.Type = "runtime/default"
		}, []wantErr{{pod + ".type", field.ErrorTypeNotSupported}}},
		{"pod annotation", nil, func(p *corev1.Pod) {
			p.Annotations[corev1.SeccompPodAnnotationKey] = "runtime/default"
		}, []wantErr{{"metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]", field.ErrorTypeForbidden}}},
		{"container annotation", nil, func(p *corev1.Pod) {
			p.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+"app"] = "unconfined"
		}, []wantErr{{"metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]", field.ErrorTypeForbidden}}},
	})
}

func TestValidatePodWindows(t *testing.T) {
	wo := &corev1.WindowsSecurityContextOptions{RunAsUserName: valPtr("ContainerUser")}
	runValidateCases(t, []validateCase{
		{"pod windowsOptions", nil, func(p *corev1.Pod) { p.Spec.SecurityContext.WindowsOptions = wo }, []wantErr{{"spec.securityContext.windowsOptions", field.ErrorTypeForbidden}}},
		{"container windowsOptions", nil, func(p *corev1.Pod) { app(p).SecurityContext.WindowsOptions = wo }, []wantErr{{"spec.containers[0].securityContext.windowsOptions", field.ErrorTypeForbidden}}},
	})
}
