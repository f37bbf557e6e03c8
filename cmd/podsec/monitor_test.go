package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// supervisorPID is the PID of a detached pod's process (supervisor or
// monitor), as supervisor.json records it.
func (n *testNode) supervisorPID(pod string) int {
	n.t.Helper()
	var sup struct {
		PID int `json:"pid"`
	}
	b, err := os.ReadFile(filepath.Join(n.root, "supervisor", "default", pod, "supervisor.json"))
	if err != nil || json.Unmarshal(b, &sup) != nil {
		n.t.Fatalf("supervisor.json of %s: %v: %s", pod, err, b)
	}
	return sup.PID
}

// TestMonitorWatchesPod lets a detached pod's supervisor hand the pod to
// podsec-monitor and take it back, again and again: logs go on being
// written, exits are recorded with their reasons (an OOM kill seen by the
// monitor included), restarts happen, the container holds no descriptor
// of either, and the pod stops and leaves nothing.
func TestMonitorWatchesPod(t *testing.T) {
	n := newNode(t)
	if out, err := n.runD(`
apiVersion: v1
kind: Pod
metadata: {name: lc-mon}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: OnFailure
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"]
  - name: crasher
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo attempt >&2; sleep 2; exit 3"]
  - name: hog
    image: localhost/busybox:latest
    command: ["sh", "-c", "sleep 3; head -c 200m /dev/zero | tail"]
    resources: {limits: {memory: 16Mi}}
`); err != nil {
		t.Fatalf("run -d: %v: %s", err, out)
	}
	pid := n.supervisorPID("lc-mon")
	n.eventually("the supervisor hands the pod to podsec-monitor", func() bool {
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		return filepath.Base(exe) == "podsec-monitor"
	})
	n.eventually("exits seen by the monitor are recorded and restarted", func() bool {
		p := n.pod("lc-mon")
		hog := status(p, "hog")
		oom := false
		for _, st := range []*corev1.ContainerStateTerminated{hog.State.Terminated, hog.LastTerminationState.Terminated} {
			if st != nil && st.Reason == "OOMKilled" {
				oom = true
			}
		}
		return oom && status(p, "crasher").RestartCount >= 2 && hog.RestartCount >= 1
	})
	ticks := 0
	n.eventually("main's log goes on across hand-offs", func() bool {
		m := regexp.MustCompile(`tick (\d+)\n`).FindAllStringSubmatch(n.must("logs", "lc-mon", "-c", "main"), -1)
		if len(m) > 0 {
			ticks, _ = strconv.Atoi(m[len(m)-1][1])
		}
		return ticks >= 8
	})
	logs := n.must("logs", "lc-mon", "-c", "main")
	for i := 1; i <= ticks; i++ {
		if !strings.Contains(logs, "tick "+strconv.Itoa(i)+"\n") {
			t.Errorf("main's log lacks tick %d:\n%s", i, logs)
		}
	}
	// main's process (its PID as the monitor has it) holds its stdin,
	// its two pipes and nothing of the supervisor or the monitor.
	var m [][]byte
	n.eventually("the monitor watches main", func() bool {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		m = regexp.MustCompile(`^[^\x00]*podsec-monitor\x00.*--container\x00main:(\d+):`).FindSubmatch(cmdline)
		return m != nil
	})
	fds, err := os.ReadDir("/proc/" + string(m[1]) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fd := range fds {
		names = append(names, fd.Name())
	}
	if strings.Join(names, " ") != "0 1 2" {
		t.Errorf("main's process holds descriptors %v, want 0 1 2", names)
	}
	if out := n.must("logs", "lc-mon", "-c", "crasher", "--previous"); !strings.Contains(out, "attempt") {
		t.Errorf("crasher's previous log (stderr): %q", out)
	}
	n.must("delete", "pod", "lc-mon")
	n.assertClean(n.must("gc"))
}
