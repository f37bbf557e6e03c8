package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMonitorRunsProbes has podsec-monitor watch a pod with an httpGet
// startup and readiness and a tcpSocket liveness probe against a real
// server in the container, and checks that what the probes find while
// the monitor watches reaches the pod as it would from the supervisor:
// the startup probe passes and the others start, readiness goes off and
// on again (as get pods shows it), and a dead server gets the container
// restarted, with the kubelet's events. Before each change the pod is
// with the monitor, probes and all.
func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMonitorRunsProbes(t *testing.T) {
	n := newNode(t)
	// The pod is on the node's network (only 127.0.0.1 is probed): a
	// port free now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if out, err := n.runD(fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: lc-mprobe}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: localhost/busybox:latest
    command: ["sh", "-c", "mkdir -p /www; echo ok >/www/ok; httpd -f -p 127.0.0.1:%[1]d -h /www & echo $! >/tmp/httpd.pid; sleep 600"]
    startupProbe:
      httpGet: {path: /started, port: %[1]d}
      periodSeconds: 1
      failureThreshold: 1000
    readinessProbe:
      httpGet: {path: /ok, port: %[1]d, httpHeaders: [{name: Authorization, value: "Bearer s3cr3t-probe-token"}]}
      periodSeconds: 1
      failureThreshold: 2
    livenessProbe:
      tcpSocket: {host: 127.0.0.1, port: %[1]d}
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 2
`, port)); err != nil {
		t.Fatalf("run -d: %v: %s", err, out)
	}
	proc := "/proc/" + strconv.Itoa(n.supervisorPID("lc-mprobe"))
	probes := filepath.Join(n.root, "supervisor", "default", "lc-mprobe", "probes")
	// watchedWith: the monitor holds the pod and n probes, with these
	// words in them.
	watchedWith := func(n int, want ...string) bool {
		exe, _ := os.Readlink(proc + "/exe")
		cmdline, _ := os.ReadFile(proc + "/cmdline")
		// A probe's headers are in the record (0600), never on a command
		// line every user of the node reads.
		if strings.Contains(string(cmdline), "s3cr3t") {
			t.Fatalf("%s's command line shows the probe's header: %q", exe, cmdline)
		}
		if filepath.Base(exe) != "podsec-monitor" || !strings.Contains(string(cmdline), "\x00--probes\x00"+probes+"\x00") {
			return false
		}
		fi, err := os.Stat(probes)
		b, _ := os.ReadFile(probes)
		if err != nil || fi.Mode().Perm() != 0o600 || strings.Count(string(b), "\x1e")+1 != n {
			return false
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				return false
			}
		}
		return true
	}
	watched := func() bool {
		return watchedWith(2, "GET /ok", "s3cr3t", fmt.Sprintf("127.0.0.1:%d", port)) && !strings.Contains(mustRead(t, probes), "/started")
	}
	ready := func(want string) func() bool {
		return func() bool {
			out := n.must("get", "pods", "lc-mprobe")
			return strings.Contains(out, " "+want+" ") && strings.Contains(out, "Running")
		}
	}
	n.eventually("podsec-monitor watches the pod's startup probe", func() bool { return watchedWith(1, "GET /started") })
	if out := n.must("get", "pods", "lc-mprobe"); !strings.Contains(out, " 0/1 ") {
		t.Errorf("get pods before the startup probe passed: want 0/1:\n%s", out)
	}
	n.must("exec", "lc-mprobe", "--", "sh", "-c", "echo yes >/www/started")
	n.eventually("a passing startup probe seen by the monitor starts the others: the pod is ready", ready("1/1"))
	if st := status(n.pod("lc-mprobe"), "web"); st.Started == nil || !*st.Started {
		t.Errorf("web after its startup probe passed: started %v, want true", st.Started)
	}
	n.eventually("podsec-monitor watches the pod's readiness and liveness probes", watched)

	n.must("exec", "lc-mprobe", "--", "rm", "/www/ok")
	n.eventually("a failing readiness probe seen by the monitor makes the pod unready", ready("0/1"))
	if p := n.pod("lc-mprobe"); status(p, "web").Ready || status(p, "web").RestartCount != 0 {
		t.Errorf("after readiness failed: container status %+v, want not ready and not restarted", status(p, "web"))
	}
	n.eventually("podsec-monitor takes the unready pod back", watched)
	n.must("exec", "lc-mprobe", "--", "sh", "-c", "echo ok >/www/ok")
	n.eventually("a passing readiness probe seen by the monitor makes the pod ready", ready("1/1"))

	n.eventually("podsec-monitor takes the ready pod back", watched)
	n.must("exec", "lc-mprobe", "--", "sh", "-c", "kill $(cat /tmp/httpd.pid)")
	n.eventually("a failing liveness probe seen by the monitor restarts the container", func() bool {
		st := status(n.pod("lc-mprobe"), "web")
		return st.RestartCount >= 1 && st.LastTerminationState.Terminated != nil
	})
	d := n.must("describe", "pod", "lc-mprobe")
	for _, want := range []string{"Readiness probe failed for container web", "Liveness probe failed for container web", "will be restarted"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe pod lc-mprobe: no %q:\n%s", want, d)
		}
	}
	// The new start (a new root file system) starts up again.
	n.eventually("podsec-monitor watches the restarted container's startup probe", func() bool { return watchedWith(1, "GET /started") })
	n.must("exec", "lc-mprobe", "--", "sh", "-c", "echo yes >/www/started")
	n.eventually("the restarted container is ready", ready("1/1"))
	n.eventually("podsec-monitor watches the restarted container", watched)
	if st := status(n.pod("lc-mprobe"), "web"); st.State.Running == nil {
		t.Errorf("web after its restart: %+v, want running", st.State)
	}
	n.must("delete", "pod", "lc-mprobe")
	n.assertClean(n.must("gc"))
}

// TestMonitorHandsBackRedirects: an httpGet probe answered with a
// redirect, which the kubelet follows and podsec-monitor does not, gives
// the pod back to the supervisor for good; the probe passes there.
func TestMonitorHandsBackRedirects(t *testing.T) {
	n := newNode(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// busybox httpd answers /dir with 301 to /dir/, served from its index.
	if out, err := n.runD(fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: lc-mredir}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: localhost/busybox:latest
    command: ["sh", "-c", "mkdir -p /www/dir; echo ok >/www/dir/index.html; exec httpd -f -p 127.0.0.1:%[1]d -h /www"]
    readinessProbe:
      httpGet: {path: /dir, port: %[1]d}
      periodSeconds: 1
`, port)); err != nil {
		t.Fatalf("run -d: %v: %s", err, out)
	}
	proc := "/proc/" + strconv.Itoa(n.supervisorPID("lc-mredir"))
	n.eventually("the monitor gives the redirected probe back to the supervisor", func() bool {
		return strings.Contains(n.must("describe", "pod", "lc-mredir"), "Readiness probe of container web redirects: the supervisor runs it")
	})
	if exe, _ := os.Readlink(proc + "/exe"); filepath.Base(exe) != "podsec" {
		t.Errorf("after the hand-back the pod's process is %s, want the supervisor (podsec)", exe)
	}
	n.eventually("the supervisor follows the redirect: the pod is ready", func() bool {
		return strings.Contains(n.must("get", "pods", "lc-mredir"), " 1/1 ")
	})
	n.must("delete", "pod", "lc-mredir")
	n.assertClean(n.must("gc"))
}
