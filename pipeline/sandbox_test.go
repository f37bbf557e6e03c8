package pipeline

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/seccomp"
	"github.com/podsec/podsec/spec"
)

// TestSandboxSysctls: the plan's sandbox holds the pod's sysctls, and each
// container's spec carries exactly them (the way they reach the kernel).
func TestSandboxSysctls(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{
				{Name: "net.ipv4.ip_local_port_range", Value: "1024 65000"}, {Name: "kernel.shm_rmid_forced", Value: "1"},
			}},
			Containers: []corev1.Container{{Name: "a", Image: "i", Command: []string{"true"}}, {Name: "b", Image: "i", Command: []string{"true"}}},
		}}
	want := map[string]string{"net.ipv4.ip_local_port_range": "1024 65000", "kernel.shm_rmid_forced": "1"}
	node := &Node{Root: "/r", Spec: spec.Options{Seccomp: seccomp.Profiles{}}}
	p, err := Build(pod, node, Admission{}, Objects{})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(p.Sandbox.Sysctls, want) {
		t.Fatalf("Sandbox.Sysctls = %v, want %v", p.Sandbox.Sysctls, want)
	}
	for _, c := range []string{"a", "b"} {
		s, err := p.ContainerSpec(c, &spec.ImageConfig{}, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(s.Linux.Sysctl, p.Sandbox.Sysctls) {
			t.Errorf("container %s: linux.sysctl = %v, want the sandbox's %v", c, s.Linux.Sysctl, p.Sandbox.Sysctls)
		}
	}
	pod.Spec.SecurityContext = nil
	if p, err = Build(pod, node, Admission{}, Objects{}); err != nil || p.Sandbox.Sysctls != nil {
		t.Fatalf("without sysctls: Sandbox.Sysctls = %v (%v), want none", p.Sandbox.Sysctls, err)
	}
}
