package spec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// hostUsersPod is validPod without what a host namespace forbids
// (container ports with hostPort under hostNetwork, net sysctls), so that
// a case sees only the errors of hostUsers.
func hostUsersPod(p *corev1.Pod) {
	p.Spec.SecurityContext.Sysctls = nil
	p.Spec.Containers[0].Ports = nil
}

// TestValidatePodHostUsers holds hostUsers: false to the API server's
// validateHostUsers and the procMount rule of its container validation.
func TestValidatePodHostUsers(t *testing.T) {
	forbidden := func(f string) wantErr { return wantErr{f, field.ErrorTypeForbidden} }
	runValidateCases(t, []validateCase{
		{"hostNetwork", nil, func(p *corev1.Pod) { hostUsersPod(p); p.Spec.HostNetwork = true },
			[]wantErr{forbidden("spec.hostNetwork")}},
		{"hostPID", nil, func(p *corev1.Pod) { hostUsersPod(p); p.Spec.HostPID = true },
			[]wantErr{forbidden("spec.HostPID")}},
		{"hostIPC", nil, func(p *corev1.Pod) { hostUsersPod(p); p.Spec.HostIPC = true },
			[]wantErr{forbidden("spec.HostIPC")}},
		{"all three", nil, func(p *corev1.Pod) {
			hostUsersPod(p)
			p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true
		}, []wantErr{forbidden("spec.hostNetwork"), forbidden("spec.HostPID"), forbidden("spec.HostIPC")}},
		{"host namespaces with hostUsers true", nil, func(p *corev1.Pod) {
			hostUsersPod(p)
			p.Spec.HostUsers = valPtr(true)
			app(p).SecurityContext.ProcMount = nil
			p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true
		}, nil},
		{"host namespaces with hostUsers unset", nil, func(p *corev1.Pod) {
			hostUsersPod(p)
			p.Spec.HostUsers = nil
			app(p).SecurityContext.ProcMount = nil
			p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true
		}, nil},
		// Kubernetes 1.25-1.27 refused these; 1.28 and later accept any
		// volume type in a user namespace (idmapped mounts).
		{"hostPath, emptyDir, configMap, secret, downwardAPI volumes", nil, func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes,
				corev1.Volume{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
				corev1.Volume{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
				corev1.Volume{Name: "d", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}},
				corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv"}}},
			)
		}, nil},
		{"procMount Unmasked in an init container with host users", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].SecurityContext.ProcMount = valPtr(corev1.UnmaskedProcMount)
			p.Spec.HostUsers = nil
			app(p).SecurityContext.ProcMount = nil
		}, []wantErr{{"spec.initContainers[0].securityContext.procMount", field.ErrorTypeInvalid}}},
		{"procMount Unmasked in an init container in a user namespace", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].SecurityContext.ProcMount = valPtr(corev1.UnmaskedProcMount)
		}, nil},
	})
}

// TestValidatePodHostUsersMessages pins the API server's wording.
func TestValidatePodHostUsersMessages(t *testing.T) {
	pod := validPod()
	hostUsersPod(pod)
	pod.Spec.HostNetwork, pod.Spec.HostPID, pod.Spec.HostIPC = true, true, true
	want := []string{
		"spec.hostNetwork: Forbidden: when `pod.Spec.HostUsers` is false",
		"spec.HostPID: Forbidden: when `pod.Spec.HostUsers` is false",
		"spec.HostIPC: Forbidden: when `pod.Spec.HostUsers` is false",
	}
	errs := ValidatePod(pod, allLSMs)
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ValidatePod(hostUsers false with host namespaces) =\n%swant:\n  %s", describe(errs), strings.Join(want, "\n  "))
	}
}
