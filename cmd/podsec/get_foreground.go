package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/supervisor"
)

// foregroundRecords are the pods of namespace ns ("" for all) run in the
// foreground (podsec run without -d): no supervisor records them, their
// podsec process owns the pod directory while they run. Their status is
// what the node shows of them: the pod's IP and start, and which of its
// containers' processes run.
func foregroundRecords(root, ns string, recorded *supervisor.Store) []*supervisor.Record {
	l := runtime.Layout{Root: root}
	nss := []string{ns}
	if ns == "" {
		nss = nil
		ents, _ := os.ReadDir(filepath.Join(root, "pods"))
		for _, e := range ents {
			if e.IsDir() && e.Name()[0] != '.' {
				nss = append(nss, e.Name())
			}
		}
	}
	var out []*supervisor.Record
	for _, ns := range nss {
		pods, _ := os.ReadDir(filepath.Join(root, "pods", ns))
		for _, pd := range pods {
			if _, err := recorded.Get(ns, pd.Name()); err == nil {
				continue // a detached pod: its record says more
			}
			if r := foregroundRecord(l, ns, pd.Name()); r != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

// foregroundRecord is one foreground pod, nil if it is not running (its
// podsec is gone: gc's business) or has not got that far.
func foregroundRecord(l runtime.Layout, ns, name string) *supervisor.Record {
	if !l.PodAlive(ns, name) {
		return nil
	}
	file := filepath.Join(l.PodDir(ns, name), runtime.PodFile)
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	pod := &corev1.Pod{}
	if json.Unmarshal(b, pod) != nil || pod.Name != name || pod.Namespace != ns {
		return nil
	}
	st := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: pod.Status.PodIP}
	if pod.Status.PodIP != "" {
		st.PodIPs = []corev1.PodIP{{IP: pod.Status.PodIP}}
	}
	if info, err := os.Stat(file); err == nil {
		st.StartTime = &metav1.Time{Time: info.ModTime()}
	}
	pod.Status = corev1.PodStatus{}
	ready := true
	for _, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ContainerID: "podsec://" + ns + "_" + name + "_" + c.Name}
		if started, ok := containerRunning(l.Root, ns+"_"+name+"_"+c.Name); ok {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.Time{Time: started}}
			cs.Started = ptrTo(true)
			// The foreground run keeps no probe results: a container
			// without a readiness probe is ready once it runs.
			cs.Ready = c.ReadinessProbe == nil
		} else {
			cs.State.Waiting = &corev1.ContainerStateWaiting{}
		}
		ready = ready && cs.Ready
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	cond := corev1.ConditionFalse
	if ready {
		cond = corev1.ConditionTrue
	}
	st.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: cond}}
	return &supervisor.Record{Pod: pod, Status: st, SupervisorAlive: true}
}

// containerRunning reports whether a libcontainer container's init
// process runs, and when its container was created.
func containerRunning(root, id string) (time.Time, bool) {
	b, err := os.ReadFile(filepath.Join(root, "libcontainer", id, "state.json"))
	if err != nil {
		return time.Time{}, false
	}
	var s struct {
		PID     int       `json:"init_process_pid"`
		Start   uint64    `json:"init_process_start"`
		Created time.Time `json:"created"`
	}
	if json.Unmarshal(b, &s) != nil || s.PID <= 0 {
		return time.Time{}, false
	}
	return s.Created, runtime.Owner{PID: s.PID, StartTime: s.Start}.Alive()
}

func ptrTo[T any](v T) *T { return &v }
