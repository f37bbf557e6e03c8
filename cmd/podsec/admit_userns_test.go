package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/node"
)

// usernsPod is a pod of namespace ns that meets restricted but for what
// extra says (YAML lines of its spec, indented by two). Its volume is a
// persistentVolumeClaim, which this node does not provide: podsec run of an
// admitted pod stops at the node's checks, after admission, before
// anything is made.
func usernsPod(name, ns, podSC, containerSC, extra string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
` + extra + `  securityContext: {seccompProfile: {type: RuntimeDefault}` + podSC + `}
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["/bin/true"]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}` + containerSC + `}
    volumeMounts: [{name: claim, mountPath: /claim}]
  volumes: [{name: claim, persistentVolumeClaim: {claimName: c}}]
`
}

// usernsPSP is restricted-like: non-root users only, Default procMount
// only, every volume type.
const usernsPSP = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: nonroot, annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: runtime/default}}
spec:
  privileged: false
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  runAsUser: {rule: MustRunAsNonRoot}
  fsGroup: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  volumes: ['*']
`

// TestAdmitUserNamespaceAgrees: for pods with hostUsers: false, podsec
// admit, the webhook (/mutate then /validate, as an API server calls them)
// and podsec run give the same verdict and the same refusal, and that
// verdict is upstream's: pod-security-admission relaxes runAsNonRoot and
// runAsUser (restricted) and procMount (baseline) for user-namespaced pods
// from policy version 1.35, not before; PodSecurityPolicy (Kubernetes
// 1.24, before hostUsers) does not look at hostUsers.
func TestAdmitUserNamespaceAgrees(t *testing.T) {
	const hostUsersFalse = "  hostUsers: false\n"
	rootUserns := func(name, ns string) string {
		return usernsPod(name, ns, ", runAsUser: 0", "", hostUsersFalse)
	}
	unmasked := func(name, ns string) string {
		return usernsPod(name, ns, ", runAsNonRoot: true, runAsUser: 1000", ", procMount: Unmasked", hostUsersFalse)
	}
	type tc struct {
		name, pod string
		deny      []string // in the refusal; nil: allowed
	}
	setups := []struct {
		name  string
		setup []string // manifests applied first
		rbac  [][]string
		cases []tc
	}{
		{
			name: "pod security standards",
			setup: []string{
				"apiVersion: v1\nkind: Namespace\nmetadata: {name: r-latest, labels: {pod-security.kubernetes.io/enforce: restricted}}\n",
				"apiVersion: v1\nkind: Namespace\nmetadata: {name: r-134, labels: {pod-security.kubernetes.io/enforce: restricted, pod-security.kubernetes.io/enforce-version: v1.34}}\n",
				"apiVersion: v1\nkind: Namespace\nmetadata: {name: b-latest, labels: {pod-security.kubernetes.io/enforce: baseline}}\n",
				"apiVersion: v1\nkind: Namespace\nmetadata: {name: b-134, labels: {pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/enforce-version: v1.34}}\n",
			},
			cases: []tc{
				{name: "root in a user namespace, restricted:latest", pod: rootUserns("root-userns", "r-latest")},
				{name: "root in a user namespace, restricted:v1.34", pod: rootUserns("root-userns", "r-134"),
					deny: []string{`violates PodSecurity "restricted:v1.34"`, "runAsNonRoot != true", "runAsUser=0 (pod must not set runAsUser=0)"}},
				{name: "root with host users, restricted:latest", pod: usernsPod("root-host", "r-latest", ", runAsUser: 0", "", ""),
					deny: []string{`violates PodSecurity "restricted:latest"`, "runAsNonRoot != true", "runAsUser=0"}},
				{name: "runAsNonRoot false in a user namespace, restricted:latest",
					pod: usernsPod("nonroot-false", "r-latest", ", runAsNonRoot: false", "", hostUsersFalse)},
				{name: "procMount Unmasked in a user namespace, baseline:latest", pod: unmasked("unmasked", "b-latest")},
				{name: "procMount Unmasked in a user namespace, baseline:v1.34", pod: unmasked("unmasked", "b-134"),
					deny: []string{`violates PodSecurity "baseline:v1.34"`, `procMount (container "main" must not set securityContext.procMount to "Unmasked")`}},
				{name: "procMount Unmasked in a user namespace, restricted:latest", pod: unmasked("unmasked", "r-latest"),
					deny: []string{`violates PodSecurity "restricted:latest"`, "procMount"}},
			},
		},
		{
			name:  "pod security policy",
			setup: []string{usernsPSP},
			rbac: [][]string{
				{"create", "clusterrole", "psp-nonroot", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=nonroot"},
				{"create", "clusterrolebinding", "psp-all", "--clusterrole=psp-nonroot", "--group=system:authenticated"},
			},
			cases: []tc{
				{name: "root in a user namespace", pod: rootUserns("root-userns", "team"),
					deny: []string{"PodSecurityPolicy: unable to admit pod", "spec.containers[0].securityContext.runAsUser: Invalid value: 0: running with the root UID is forbidden"}},
				{name: "procMount Unmasked in a user namespace", pod: unmasked("unmasked", "team"),
					deny: []string{"PodSecurityPolicy: unable to admit pod", `spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": ProcMountType is not allowed`}},
				{name: "non-root in a user namespace", pod: usernsPod("nonroot", "team", ", runAsUser: 1000", "", hostUsersFalse)},
			},
		},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			c := newCLI(t)
			for _, m := range s.setup {
				c.ok(m, "apply", "-f", "-")
			}
			for _, r := range s.rbac {
				c.ok("", r...)
			}
			base, client := webhookServer(t, c.root)
			for _, tc := range s.cases {
				t.Run(tc.name, func(t *testing.T) {
					admitMsg := verdictOf(c.run(tc.pod, "admit", "-f", "-"))
					hookMsg := webhookVerdict(t, client, base, tc.pod)
					auditBefore := auditLines(t, c.root)
					runMsg := verdictOf(c.run(tc.pod, "run", "--network", "none", "-f", "-"))
					if tc.deny == nil {
						if admitMsg != "" || hookMsg != "" {
							t.Errorf("want allowed: podsec admit %q, webhook %q", admitMsg, hookMsg)
						}
						// run got past admission; this node refuses the
						// claim, before anything is made.
						if !strings.Contains(runMsg, "volume type not supported by podsec") || strings.Contains(runMsg, "forbidden") {
							t.Errorf("podsec run: %q, want admitted, then refused by the node for the claim", runMsg)
						}
					} else {
						for _, w := range tc.deny {
							if !strings.Contains(admitMsg, w) {
								t.Errorf("podsec admit: %q, want it to contain %q", admitMsg, w)
							}
						}
						if hookMsg != admitMsg || runMsg != admitMsg {
							t.Errorf("refusals differ:\n  admit:   %q\n  webhook: %q\n  run:     %q", admitMsg, hookMsg, runMsg)
						}
					}
					// run's own admission is in the audit log.
					entries := auditLines(t, c.root)[len(auditBefore):]
					if len(entries) != 1 || entries[0].Allowed != (tc.deny == nil) {
						t.Errorf("podsec run's audit entries %+v, want one with allowed %v", entries, tc.deny == nil)
					}
				})
			}
		})
	}
}

// verdictOf is a command's refusal without "error: " and the newline, or
// "" when it exited 0.
func verdictOf(code int, _, stderr string) string {
	if code == 0 {
		return ""
	}
	if i := strings.Index(stderr, "error: "); i >= 0 {
		stderr = stderr[i+len("error: "):]
	}
	return strings.TrimSpace(stderr)
}

// webhookVerdict sends a pod through /mutate and, if allowed, the patched
// pod through /validate, as the requester podsec admit is (the Unix user,
// in system:authenticated). It returns the refusal's message or "".
func webhookVerdict(t *testing.T, client *http.Client, base, manifest string) string {
	t.Helper()
	pod, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Metadata struct{ Namespace string } `json:"metadata"`
	}
	if err := json.Unmarshal(pod, &meta); err != nil {
		t.Fatal(err)
	}
	user := authenticationv1.UserInfo{Username: node.CurrentUser(), Groups: []string{"system:authenticated"}}
	for _, path := range []string{"/mutate", "/validate"} {
		resp, err := client.Post(base+path, "application/json", bytes.NewReader(reviewOf(t, admissionv1.Create, meta.Metadata.Namespace, user, string(pod), "")))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(data, &review); err != nil || review.Response == nil {
			t.Fatalf("POST %s: %s %v: %s", path, resp.Status, err, data)
		}
		r := review.Response
		if !r.Allowed {
			if r.Result == nil {
				t.Fatalf("POST %s: refused without a result", path)
			}
			return r.Result.Message
		}
		pod = applyJSONPatch(t, pod, r.Patch)
	}
	return ""
}

// auditLines reads <root>/audit.log.
func auditLines(t *testing.T, root string) []node.AuditEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "audit.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []node.AuditEntry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e node.AuditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit.log line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}
