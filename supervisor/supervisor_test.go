package supervisor

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestBackoff(t *testing.T) {
	base, max := 10*time.Second, 5*time.Minute
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for n, w := range want {
		if got := backoff(n, base, max); got != w {
			t.Errorf("backoff(%d) = %s, want %s", n, got, w)
		}
	}
}

func TestShouldRestart(t *testing.T) {
	for _, tc := range []struct {
		policy corev1.RestartPolicy
		code   int
		want   bool
	}{
		{corev1.RestartPolicyAlways, 0, true}, {corev1.RestartPolicyAlways, 1, true},
		{corev1.RestartPolicyOnFailure, 0, false}, {corev1.RestartPolicyOnFailure, 137, true},
		{corev1.RestartPolicyNever, 1, false},
	} {
		if got := shouldRestart(tc.policy, tc.code); got != tc.want {
			t.Errorf("shouldRestart(%s, %d) = %v, want %v", tc.policy, tc.code, got, tc.want)
		}
	}
}

func TestSummary(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init"}},
		Containers:     []corev1.Container{{Name: "a"}, {Name: "b"}},
	}}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	tests := []struct {
		name          string
		st            corev1.PodStatus
		alive         bool
		ready, status string
		restarts      int
	}{
		{"init running", corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: running}}}, true, "0/2", "Init:0/1", 0},
		{"init failed", corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}}, false, "0/2", "Init:Error", 0},
		{"crash loop", corev1.PodStatus{Phase: corev1.PodRunning,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "a", Ready: true, State: running}, {Name: "b", RestartCount: 4, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}},
			true, "1/2", "CrashLoopBackOff", 4},
		{"OOMKilled", corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}, false, "0/2", "OOMKilled", 0},
		{"supervisor gone", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "a", Ready: true, State: running}}}, false, "1/2", "Unknown", 0},
	}
	for _, tc := range tests {
		ready, status, restarts := Summary(&Record{Pod: pod, Status: tc.st, SupervisorAlive: tc.alive})
		if ready != tc.ready || status != tc.status || restarts != tc.restarts {
			t.Errorf("Summary(%s) = %s %s %d, want %s %s %d", tc.name, ready, status, restarts, tc.ready, tc.status, tc.restarts)
		}
	}
}
