package supervisor

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/spec"
)

func qos(pod *corev1.Pod) corev1.PodQOSClass { return spec.QOSClass(pod) }

// containerID is how podsec names a container in a ContainerStatus.
func containerID(pod *corev1.Pod, name string) string {
	return "podsec://" + pod.Namespace + "_" + pod.Name + "_" + name
}

// terminated is a ContainerStateTerminated for a runtime result.
func terminated(pod *corev1.Pod, r runtime.ContainerResult) *corev1.ContainerStateTerminated {
	t := &corev1.ContainerStateTerminated{
		ExitCode:    int32(r.ExitCode),
		Reason:      r.Reason,
		StartedAt:   metav1.NewTime(r.StartedAt),
		FinishedAt:  metav1.NewTime(r.FinishedAt),
		ContainerID: containerID(pod, r.Name),
	}
	if r.ExitCode > 128 && r.Signal != "" {
		t.Signal = int32(r.ExitCode - 128)
	}
	return t
}

// setCondition sets a pod condition, keeping its transition time when its
// status does not change.
func setCondition(st *corev1.PodStatus, typ corev1.PodConditionType, ok bool, now time.Time) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range st.Conditions {
		if st.Conditions[i].Type == typ {
			if st.Conditions[i].Status != status {
				st.Conditions[i].Status = status
				st.Conditions[i].LastTransitionTime = metav1.NewTime(now)
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: metav1.NewTime(now)})
}

// Summary gives the READY, STATUS and RESTARTS columns of `kubectl get
// pods` for a record, with kubectl's rules: the phase, or the reason of
// the first init container that is not done (Init:N/M, Init:Error...), or
// the last app container's waiting or terminated reason (CrashLoopBackOff,
// OOMKilled, Error, Completed). A pod whose supervisor is gone before the
// pod ended is Unknown until `podsec gc` settles it.
func Summary(r *Record) (ready string, status string, restarts int) {
	pod, st := r.Pod, r.Status
	readyCount := 0
	reason := string(st.Phase)
	if st.Reason != "" {
		reason = st.Reason
	}
	initializing := false
	for i, c := range st.InitContainerStatuses {
		restarts += int(c.RestartCount)
		switch {
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			continue
		case c.State.Terminated != nil:
			reason = "Init:" + c.State.Terminated.Reason
			if c.State.Terminated.Reason == "" {
				reason = fmt.Sprintf("Init:ExitCode:%d", c.State.Terminated.ExitCode)
			}
		case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + c.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing {
		restarts = 0
		hasRunning := false
		for i := len(st.ContainerStatuses) - 1; i >= 0; i-- {
			c := st.ContainerStatuses[i]
			restarts += int(c.RestartCount)
			switch {
			case c.State.Waiting != nil && c.State.Waiting.Reason != "":
				reason = c.State.Waiting.Reason
			case c.State.Terminated != nil && c.State.Terminated.Reason != "":
				reason = c.State.Terminated.Reason
			case c.State.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", c.State.Terminated.ExitCode)
			case c.State.Running != nil:
				hasRunning = true
				if c.Ready {
					readyCount++
				}
			}
		}
		if reason == "Completed" && hasRunning {
			reason = "NotReady"
			for _, c := range st.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					reason = "Running"
				}
			}
		}
	}
	// kubectl lets the containers' reasons (Error, for the kill) hide the
	// pod's; podsec shows Evicted, as kubectl shows the pods of older
	// kubelets, so the table says why the pod ended.
	if st.Reason == runtime.EvictedReason {
		reason = st.Reason
	}
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	if !terminal && !r.SupervisorAlive {
		reason = "Unknown"
	}
	return fmt.Sprintf("%d/%d", readyCount, len(pod.Spec.Containers)), reason, restarts
}
