package runtime

import (
	"errors"
	"testing"

	"github.com/podsec/podsec/pipeline"
	corev1 "k8s.io/api/core/v1"
)

// TestStartErrorSysctl: a sysctl value the kernel refused is named by its
// field path; other start errors are left as they are.
func TestStartErrorSysctl(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{
		{Name: "kernel.shm_rmid_forced", Value: "1"},
		{Name: "net.ipv4.ip_unprivileged_port_start", Value: "99999999"},
	}}}}
	err := errors.New(`unable to start container process: error during container init: failed to write sysctl net.ipv4.ip_unprivileged_port_start = "99999999": write fsmount:fscontext:proc/./sys/net/ipv4/ip_unprivileged_port_start: invalid argument`)
	plan := &pipeline.Plan{Pod: pod}
	got := startError(plan, err)
	want := `spec.securityContext.sysctls[1].value: Invalid value: "99999999": the node's kernel refused it: invalid argument`
	if got == nil || got.Error() != want {
		t.Errorf("startError = %v, want %s", got, want)
	}
	if got := startError(plan, errors.New("unable to start container process: exec: \"nope\": executable file not found in $PATH")); got != nil {
		t.Errorf("startError of another error = %v, want nil", got)
	}
	if got := startError(&pipeline.Plan{Pod: &corev1.Pod{}}, err); got != nil {
		t.Errorf("startError without sysctls = %v, want nil", got)
	}
}
