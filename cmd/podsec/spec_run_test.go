package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpecIsWhatRuns runs pods detached (admitted by the seed
// PodSecurityPolicy, which makes the root filesystem read-only) and
// compares podsec spec, byte for byte, with the spec the runtime handed to
// libcontainer for each container (kept in the pod's specs/ directory as
// the bytes of that very spec). The pods cover readOnly volumes with rro,
// a hostPath, a sysctl, an init container and a subPath; configMap, secret
// and downwardAPI volumes given in the manifest with an fsGroup, a shared
// PID namespace and a restricted container; and resource limits, a Memory
// emptyDir, DNS settings and host aliases, admitted for another requester.
func TestSpecIsWhatRuns(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root")
		}
		t.Skip("needs root")
	}
	n := newNode(t)
	n.must("apply", "-f", "../../testdata/policies/seed-default-psp.yaml")
	n.must("create", "clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=default")
	n.must("create", "clusterrolebinding", "psp-all", "--clusterrole=psp-default", "--group=system:authenticated")
	host := t.TempDir()
	pods := []struct {
		name, manifest string
		containers     []string
		args           []string // the requester, for run -d and spec alike
		want           map[string][]string
	}{
		{name: "spec-run", containers: []string{"init", "main", "side"}, manifest: `apiVersion: v1
kind: Pod
metadata: {name: spec-run}
spec:
  securityContext:
    fsGroup: 2000
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "80"}]
  initContainers:
  - {name: init, image: localhost/busybox:latest, command: ["true"], volumeMounts: [{name: cache, mountPath: /cache}]}
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sleep, "600"]
    volumeMounts:
    - {name: cache, mountPath: /cache, readOnly: true}
    - {name: cache, mountPath: /sub, subPath: data}
    - {name: host, mountPath: /host, readOnly: true}
  - {name: side, image: localhost/busybox:nonroot, command: [sleep, "600"]}
  volumes:
  - {name: cache, emptyDir: {}}
  - {name: host, hostPath: {path: ` + host + `, type: Directory}}
`, want: map[string][]string{"main": {`"rro"`, `"limit": 4096`}}},
		{name: "spec-run-files", containers: []string{"main", "restricted"}, manifest: `apiVersion: v1
kind: Pod
metadata: {name: spec-run-files, labels: {app: web}}
spec:
  shareProcessNamespace: true
  securityContext: {fsGroup: 3000, supplementalGroups: [4000]}
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [sleep, "600"]
    volumeMounts:
    - {name: config, mountPath: /config}
    - {name: secret, mountPath: /secret}
    - {name: podinfo, mountPath: /podinfo}
  - name: restricted
    image: localhost/busybox:latest
    command: [sleep, "600"]
    securityContext:
      runAsUser: 1000
      runAsNonRoot: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
    volumeMounts: [{name: config, mountPath: /config, subPath: app.conf}]
  volumes:
  - {name: config, configMap: {name: web-config}}
  - {name: secret, secret: {secretName: web-secret, defaultMode: 0400}}
  - name: podinfo
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {app.conf: "listen 8080"}
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret}
stringData: {password: hunter2}
`, want: map[string][]string{"main": {`"type": "pid"`, "3000", "4000"}, "restricted": {`"noNewPrivileges": true`, `"uid": 1000`}}},
		{name: "spec-run-dns", containers: []string{"main"}, args: []string{"--as", "alice", "--as-group", "devs"}, manifest: `apiVersion: v1
kind: Pod
metadata: {name: spec-run-dns}
spec:
  hostname: h1
  dnsPolicy: None
  dnsConfig: {nameservers: [192.0.2.53], searches: [example.org]}
  hostAliases: [{ip: 192.0.2.1, hostnames: [a]}]
  containers:
  - name: main
    image: localhost/busybox:nonroot
    command: [sleep, "600"]
    resources: {requests: {memory: 32Mi, cpu: 250m}, limits: {memory: 64Mi, cpu: 500m}}
    volumeMounts: [{name: mem, mountPath: /mem}]
  volumes:
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
`, want: map[string][]string{"main": {`"hostname": "h1"`, "67108864"}}},
	}
	for _, p := range pods {
		f := filepath.Join(n.root, p.name+".yaml")
		if err := os.WriteFile(f, []byte(p.manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := n.podsec(append([]string{"run", "-d", "-f", f}, p.args...)...); err != nil {
			t.Fatalf("podsec run -d %s: %v\n%s", p.name, err, out)
		}
		for _, c := range p.containers {
			got, err := n.podsec(append([]string{"spec", "-f", f, "-c", c}, p.args...)...)
			if err != nil {
				t.Fatalf("podsec spec %s -c %s: %v\n%s", p.name, c, err, got)
			}
			ran, err := os.ReadFile(filepath.Join(n.root, "pods", "default", p.name, "specs", c+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if got != string(ran) {
				t.Errorf("podsec spec %s -c %s differs from the spec run handed to libcontainer:\n%s\nran:\n%s", p.name, c, got, ran)
			}
			for _, w := range p.want[c] {
				if !strings.Contains(got, w) {
					t.Errorf("podsec spec %s -c %s: no %s in\n%s", p.name, c, w, got)
				}
			}
			if !strings.Contains(got, `"readonly": true`) {
				t.Errorf("podsec spec %s -c %s: no read-only root from the PodSecurityPolicy:\n%s", p.name, c, got)
			}
		}
	}
}
