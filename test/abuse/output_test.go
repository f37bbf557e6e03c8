package abuse

import (
	"strings"
	"testing"
	"time"

	"github.com/podsec/podsec/test/harness"
)

// hostile is what a hostile image or manifest puts into the strings podsec
// prints: an OSC that retitles the terminal and CSIs that clear it and
// move the cursor home, with a C1 CSI for good measure.
const hostile = `\e]0;pwned\a\e[2J\e[H\u009b31m`

// escaped is hostile as internal/term prints it.
const escaped = `^[]0;pwned^G^[[2J^[[H\u009b31m`

// expectEscaped fails if out has a raw ESC, BEL or C1 CSI, or lacks the
// escaped form.
func expectEscaped(t *testing.T, what, out string) {
	t.Helper()
	if strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Fatalf("%s printed raw control characters: %q", what, out)
	}
	if !strings.Contains(out, escaped) {
		t.Fatalf("%s: no %q in %q", what, escaped, out)
	}
}

// badCommand is a pod whose command, which cannot start, is hostile.
func badCommand(name string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["/no/such/` + hostile + `"]
`
}

// TestOutputEscapesTerminalControls runs pods whose command carries
// terminal escapes: podsec's error of "run -d", "get pods" and "describe
// pod" (its events) and the error and events of a foreground "run" show
// them escaped, as kubectl does since CVE-2021-25743; "logs"
// stays raw, as kubectl logs does.
func TestOutputEscapesTerminalControls(t *testing.T) {
	n := harness.NewNode(t)

	t.Run("run error", func(t *testing.T) {
		out, _ := n.Run(badCommand("badfg"))
		expectEscaped(t, "podsec run", out)
	})
	t.Run("run -d error", func(t *testing.T) {
		out, _ := n.Podsec("run", "-d", "--network", "none", "-f", n.Manifest(badCommand("badcmd")))
		expectEscaped(t, "podsec run -d", out)
	})

	// The failed start is the pod's event, with the command in it.
	t.Run("describe pod", func(t *testing.T) {
		out, err := n.Podsec("describe", "pod", "badcmd")
		if err != nil {
			t.Fatalf("podsec describe pod badcmd: %v\n%s", err, out)
		}
		harness.ExpectLine(t, out, "Failed")
		expectEscaped(t, "podsec describe pod", out)
	})
	t.Run("get pods", func(t *testing.T) {
		for _, o := range []string{"wide", "name"} {
			out, err := n.Podsec("get", "pods", "-o", o)
			if err != nil || strings.ContainsAny(out, "\x1b\x07\u009b") {
				t.Fatalf("podsec get pods -o %s: %v: %q", o, err, out)
			}
		}
	})
	t.Run("logs stay raw", func(t *testing.T) {
		n.RunDetached(`apiVersion: v1
kind: Pod
metadata: {name: esc}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "printf '` + hostile + `\\n'; sleep 30"]
`)
		out := n.WaitLog("esc", "main", "pwned", 10*time.Second)
		if !strings.Contains(out, "\x1b]0;pwned\x07") {
			t.Errorf("podsec logs escaped the container's output: %q", out)
		}
	})
}

// TestConfigMapKeysRefused: a ConfigMap given with a pod may not name a
// file "..data", the kubelet's atomic-writer directory, or "a/b", a path:
// the API server refuses both, and so does podsec, before anything runs.
func TestConfigMapKeysRefused(t *testing.T) {
	n := harness.NewNode(t)
	for _, tc := range []struct{ key, want string }{
		{"..data", `data[..data]: Invalid value: "..data": must not start with '..'`},
		{"a/b", `data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters`},
	} {
		t.Run(tc.key, func(t *testing.T) {
			out, err := n.Run(`apiVersion: v1
kind: Pod
metadata: {name: cm}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["ls", "-la", "/cfg"]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes:
  - {name: cfg, configMap: {name: cfg}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {"` + tc.key + `": "x"}
`)
			if err == nil {
				t.Fatalf("podsec run with ConfigMap key %q: ran:\n%s", tc.key, out)
			}
			harness.ExpectLine(t, out, `ConfigMap "cfg" is invalid: `+tc.want)
		})
	}
}
