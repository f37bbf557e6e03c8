//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pod is a pod manifest named name in ns with one container whose
// securityContext is sc (YAML flow, may be empty).
func pod(name, ns, sc string) string {
	if sc != "" {
		sc = ", securityContext: " + sc
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  containers:
  - {name: main, image: busybox%s}
`, name, ns, sc)
}

const (
	mutateDenied   = `Error from server (Forbidden): error when creating "STDIN": admission webhook "mutate.psp.podsec.io" denied the request: `
	validateDenied = `Error from server (Forbidden): error when creating "STDIN": admission webhook "validate.psp.podsec.io" denied the request: `
)

// TestWebhook registers podsec's webhook in a real kube-apiserver through
// deploy/webhook's manifests and checks what users see through kubectl,
// word for word.
func TestWebhook(t *testing.T) {
	c := newCluster(t)
	for _, f := range []string{"rbac.yaml", "namespaces.yaml"} {
		c.must(t, "admin", string(mustRead(t, "testdata/"+f)), "apply", "-f", "-")
	}
	// The ServiceAccount plugin wants each namespace's default account,
	// which a controller manager would create.
	for _, ns := range []string{"team", "pss"} {
		c.must(t, "admin", "", "-n", ns, "create", "serviceaccount", "default")
	}
	w := startWebhook(t, c)

	expect := func(t *testing.T, user, stdin, want string, args ...string) {
		t.Helper()
		got, _ := c.kubectlAs(t, user, stdin, args...)
		if got != want {
			t.Errorf("kubectl %s (as %s):\n got: %s\nwant: %s", strings.Join(args, " "), user, got, want)
		}
	}

	t.Run("privileged denied", func(t *testing.T) {
		expect(t, "alice", pod("priv", "team", "{privileged: true}"),
			mutateDenied+`pods "priv" is forbidden: PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`,
			"create", "-f", "-")
	})
	t.Run("no use of any policy", func(t *testing.T) {
		expect(t, "mallory", pod("web", "team", ""),
			mutateDenied+`pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: []`,
			"create", "-f", "-")
	})
	t.Run("dry run", func(t *testing.T) {
		expect(t, "alice", pod("web", "team", ""), "1000 restricted",
			"create", "--dry-run=server", "-o", `jsonpath={.spec.containers[0].securityContext.runAsUser} {.metadata.annotations.kubernetes\.io/psp}`, "-f", "-")
		expect(t, "alice", "", `Error from server (NotFound): pods "web" not found`, "-n", "team", "get", "pod", "web")
	})
	t.Run("MustRunAs mutation", func(t *testing.T) {
		expect(t, "alice", pod("web", "team", ""), "pod/web created", "create", "-f", "-")
		expect(t, "alice", "", "1000 restricted", "-n", "team", "get", "pod", "web",
			"-o", `jsonpath={.spec.containers[0].securityContext.runAsUser} {.metadata.annotations.kubernetes\.io/psp}`)
	})
	t.Run("label-only update", func(t *testing.T) {
		expect(t, "alice", "", "pod/web labeled", "-n", "team", "label", "pod", "web", "tier=front")
		// 1.24 validated every update against the policies the requester
		// (or the pod's service account) may use.
		expect(t, "mallory", "",
			`Error from server (Forbidden): admission webhook "validate.psp.podsec.io" denied the request: pods "web" is forbidden: PodSecurityPolicy: unable to validate pod: []`,
			"-n", "team", "label", "pod", "web", "owner=mallory")
	})
	t.Run("finalizer-only update without use", func(t *testing.T) {
		// The garbage collector's kind of update: exempt, though the API
		// server also rewrites managedFields.
		expect(t, "mallory", "", "pod/web patched", "-n", "team", "patch", "pod", "web", "--type=merge",
			"-p", `{"metadata":{"finalizers":["example.com/keep"]}}`)
		expect(t, "mallory", "", "pod/web patched", "-n", "team", "patch", "pod", "web", "--type=merge",
			"-p", `{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":"6f1c0a52-0000-4000-8000-000000000001"}]}}`)
		expect(t, "alice", "", "example.com/keep owner", "-n", "team", "get", "pod", "web",
			"-o", `jsonpath={.metadata.finalizers[0]} {.metadata.ownerReferences[0].name}`)
		expect(t, "alice", "", "pod/web patched", "-n", "team", "patch", "pod", "web", "--type=merge",
			"-p", `{"metadata":{"finalizers":null}}`)
	})
	t.Run("kubectl debug privileged under PSP", func(t *testing.T) {
		expect(t, "alice", "",
			`Error from server (Forbidden): admission webhook "validate.psp.podsec.io" denied the request: pods "web" is forbidden: PodSecurityPolicy: unable to validate pod: [spec.ephemeralContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`,
			"-n", "team", "debug", "web", "--image=busybox", "--profile=sysadmin", "--container=dbg")
	})
	t.Run("kubectl debug allowed under PSP", func(t *testing.T) {
		// Control: a debug container the restricted policy admits unchanged
		// (its user in the MustRunAs range) is added.
		custom := filepath.Join(t.TempDir(), "debug.json")
		if err := os.WriteFile(custom, []byte(`{"securityContext": {"runAsUser": 1500}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		expect(t, "alice", "", "", "-n", "team", "debug", "web", "--image=busybox", "--profile=baseline", "--custom="+custom, "--container=ok")
		expect(t, "alice", "", "ok", "-n", "team", "get", "pod", "web", "-o", "jsonpath={.spec.ephemeralContainers[*].name}")
	})
	t.Run("PSS enforce", func(t *testing.T) {
		// admin may use the privileged policy: the namespace's level refuses.
		expect(t, "admin", pod("priv", "pss", "{privileged: true}"),
			validateDenied+`pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "main" must not set securityContext.privileged=true)`,
			"create", "-f", "-")
	})
	t.Run("PSS warn", func(t *testing.T) {
		expect(t, "admin", pod("web", "pss", ""),
			`Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")
pod/web created`,
			"create", "-f", "-")
	})
	t.Run("kubectl debug privileged under PSS", func(t *testing.T) {
		expect(t, "admin", "",
			`Error from server (Forbidden): admission webhook "validate.psp.podsec.io" denied the request: pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged (container "dbg" must not set securityContext.privileged=true)`,
			"-n", "pss", "debug", "web", "--image=busybox", "--profile=sysadmin", "--container=dbg")
		// Control: a debug container the enforced level allows is added,
		// with the namespace's warning.
		expect(t, "admin", "",
			`Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (containers "main", "ok" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (containers "main", "ok" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or containers "main", "ok" must set securityContext.runAsNonRoot=true), seccompProfile (pod or containers "main", "ok" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
			"-n", "pss", "debug", "web", "--image=busybox", "--profile=baseline", "--container=ok")
		expect(t, "admin", "", "ok", "-n", "pss", "get", "pod", "web", "-o", "jsonpath={.spec.ephemeralContainers[*].name}")
	})
	t.Run("webhook down", func(t *testing.T) {
		w.proc.stop()
		expect(t, "alice", pod("late", "team", ""),
			`Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "mutate.psp.podsec.io": failed to call webhook: Post "`+w.url+`/mutate?timeout=10s": dial tcp `+strings.TrimPrefix(w.url, "https://")+`: connect: connection refused`,
			"create", "-f", "-")
	})
}
