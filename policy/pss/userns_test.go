package pss

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// usernsPod meets restricted but for running as root (runAsUser 0, no
// runAsNonRoot); hostUsers is given.
func usernsPod(hostUsers *bool) *corev1.Pod {
	p := plainPod()
	p.Spec.HostUsers = hostUsers
	p.Spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsUser:      new(int64(0)),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
		AllowPrivilegeEscalation: new(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	return p
}

// unmaskedPod asks for an unmasked /proc and is otherwise restricted.
func unmaskedPod(hostUsers *bool) *corev1.Pod {
	p := usernsPod(hostUsers)
	p.Spec.SecurityContext.RunAsUser = new(int64(1000))
	p.Spec.SecurityContext.RunAsNonRoot = new(true)
	p.Spec.Containers[0].SecurityContext.ProcMount = new(corev1.UnmaskedProcMount)
	return p
}

// TestAdmitUserNamespaces pins pod-security-admission's own handling of
// hostUsers: false (its relaxPolicyForUserNamespacePod): from policy
// version 1.35 restricted lets a user-namespaced pod run as root (the
// runAsNonRoot and runAsUser checks) and baseline lets it unmask /proc;
// restricted still refuses Unmasked (procMount_restricted), versions before
// 1.35 relax nothing, and hostUsers true or unset relaxes nothing.
func TestAdmitUserNamespaces(t *testing.T) {
	ev, err := NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	enforce := func(level, version string) map[string]string {
		l := map[string]string{"pod-security.kubernetes.io/enforce": level}
		if version != "" {
			l["pod-security.kubernetes.io/enforce-version"] = version
		}
		return l
	}
	no, yes := new(false), new(true)
	const rootReasons = `runAsNonRoot != true (pod or container "x" must set securityContext.runAsNonRoot=true), runAsUser=0 (pod must not set runAsUser=0)`
	const unmaskedReason = `procMount (container "x" must not set securityContext.procMount to "Unmasked")`
	for _, tc := range []struct {
		name    string
		labels  map[string]string
		pod     *corev1.Pod
		wantErr string
	}{
		{"root in a user namespace, restricted:latest", enforce("restricted", ""), usernsPod(no), ""},
		{"root in a user namespace, restricted:v1.35", enforce("restricted", "v1.35"), usernsPod(no), ""},
		{"root in a user namespace, restricted:v1.34", enforce("restricted", "v1.34"), usernsPod(no),
			`pods "p" is forbidden: violates PodSecurity "restricted:v1.34": ` + rootReasons},
		{"root with hostUsers true, restricted:latest", enforce("restricted", ""), usernsPod(yes),
			`pods "p" is forbidden: violates PodSecurity "restricted:latest": ` + rootReasons},
		{"root with hostUsers unset, restricted:latest", enforce("restricted", ""), usernsPod(nil),
			`pods "p" is forbidden: violates PodSecurity "restricted:latest": ` + rootReasons},
		{"Unmasked in a user namespace, baseline:latest", enforce("baseline", ""), unmaskedPod(no), ""},
		{"Unmasked in a user namespace, baseline:v1.34", enforce("baseline", "v1.34"), unmaskedPod(no),
			`pods "p" is forbidden: violates PodSecurity "baseline:v1.34": ` + unmaskedReason},
		{"Unmasked with hostUsers unset, baseline:latest", enforce("baseline", ""), unmaskedPod(nil),
			`pods "p" is forbidden: violates PodSecurity "baseline:latest": ` + unmaskedReason},
		{"Unmasked in a user namespace, restricted:latest", enforce("restricted", ""), unmaskedPod(no),
			`pods "p" is forbidden: violates PodSecurity "restricted:latest": ` + unmaskedReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ev.Admit(tc.labels, tc.pod)
			got := ""
			if d.Err != nil {
				got = d.Err.Error()
			}
			if d.Allowed != (tc.wantErr == "") || got != tc.wantErr {
				t.Errorf("Admit() = allowed %v, %q; want %q", d.Allowed, got, tc.wantErr)
			}
		})
	}
}
