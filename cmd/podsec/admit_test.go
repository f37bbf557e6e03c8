package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/node"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/policy/rbac"
)

// seedPSP is the policy of section 13.3.1 of the seed chapter
// (testdata/policies/seed-default-psp.yaml).
var seedPSP = readTestdata("../../testdata/policies/seed-default-psp.yaml")

func admitPodManifest(spec string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: team}\nspec: " + spec + "\n"
}

func TestAdmitCommand(t *testing.T) {
	plain := admitPodManifest(`{containers: [{name: main, image: kubia}]}`)
	hostPort := admitPodManifest(`{containers: [{name: main, image: kubia, ports: [{containerPort: 8080, hostPort: 12000}]}]}`)
	forbidden := `error: pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: `
	// setup runs podsec commands before the one under test, as an
	// administrator would: section 13.3.5's role and bindings.
	seed := [][]string{
		{"apply", "-f", "-", seedPSP},
		{"create", "clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=default"},
	}
	bindBob := append(seed, []string{"create", "clusterrolebinding", "psp-bob", "--clusterrole=psp-default", "--user=bob"})
	bindDevs := append(seed, []string{"create", "clusterrolebinding", "psp-devs", "--clusterrole=psp-default", "--group=devs"})
	bindAll := append(seed, []string{"create", "clusterrolebinding", "psp-all", "--clusterrole=psp-default", "--group=system:authenticated"})
	bindSA := append(seed, []string{"create", "rolebinding", "psp-sa", "-n", "team", "--clusterrole=psp-default", "--serviceaccount=team:default"})
	ns := func(labels string) []string {
		return []string{"apply", "-f", "-", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {" + labels + "}}\n"}
	}
	tests := []struct {
		name      string
		setup     [][]string
		pod       string
		args      []string
		wantCode  int
		wantOutIn []string
		wantErr   string // exact stderr
	}{
		{name: "no policy stored", pod: plain, wantOutIn: []string{"name: web\n"}, wantErr: "pod/web admitted (no PodSecurityPolicy stored)\n"},
		{name: "seed policy through system:authenticated", setup: bindAll, pod: plain,
			wantOutIn: []string{"kubernetes.io/psp: default", "readOnlyRootFilesystem: true", "apiVersion: v1\nkind: Pod\n"},
			wantErr:   "pod/web admitted by podsecuritypolicy \"default\"\n"},
		{name: "seed policy refuses host port 12000", setup: bindAll, pod: hostPort, wantCode: 1,
			wantErr: forbidden + "[spec.containers[0].hostPort: Invalid value: 12000: Host port 12000 is not allowed to be used. Allowed ports: [10000-11000,13000-14000]]\n"},
		{name: "policy not usable by alice", setup: bindBob, pod: hostPort, args: []string{"--as", "alice"}, wantCode: 1,
			wantErr: forbidden + "[]\n"},
		{name: "usable by bob", setup: bindBob, pod: plain, args: []string{"--as", "bob"},
			wantOutIn: []string{"kubernetes.io/psp: default"}, wantErr: "pod/web admitted by podsecuritypolicy \"default\"\n"},
		{name: "usable by group devs", setup: bindDevs, pod: plain, args: []string{"--as", "alice", "--as-group", "devs"},
			wantOutIn: []string{"kubernetes.io/psp: default"}, wantErr: "pod/web admitted by podsecuritypolicy \"default\"\n"},
		{name: "not by alice outside devs", setup: bindDevs, pod: plain, args: []string{"--as", "alice", "--as-group", "ops"}, wantCode: 1,
			wantErr: forbidden + "[]\n"},
		{name: "usable by the default service account", setup: bindSA, pod: plain, args: []string{"--as", "alice"},
			wantOutIn: []string{"kubernetes.io/psp: default"}, wantErr: "pod/web admitted by podsecuritypolicy \"default\"\n"},
		{name: "system:masters", setup: seed, pod: plain, args: []string{"--as", "root", "--as-group", "system:masters"},
			wantOutIn: []string{"kubernetes.io/psp: default"}, wantErr: "pod/web admitted by podsecuritypolicy \"default\"\n"},
		{name: "--as-group without --as", pod: plain, args: []string{"--as-group", "devs"}, wantCode: 1,
			wantErr: "error: requesting groups without impersonating a user: --as-group needs --as\n"},
		{name: "enforce restricted", setup: [][]string{ns("pod-security.kubernetes.io/enforce: baseline")}, wantCode: 1,
			pod:     admitPodManifest(`{containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`),
			wantErr: "error: pods \"web\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"main\" must not set securityContext.privileged=true)\n"},
		{name: "warn restricted", setup: [][]string{ns("pod-security.kubernetes.io/warn: baseline")},
			pod: admitPodManifest(`{containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`),
			wantErr: "Warning: would violate PodSecurity \"baseline:latest\": privileged (container \"main\" must not set securityContext.privileged=true)\n" +
				"pod/web admitted (no PodSecurityPolicy stored)\n"},
		{name: "invalid pod", pod: admitPodManifest(`{containers: [{name: main, image: kubia, securityContext: {runAsUser: -1}}]}`), wantCode: 1,
			wantErr: "error: invalid pod: The Pod \"web\" is invalid:\n* spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			for _, s := range tc.setup {
				stdin := ""
				if s[len(s)-2] == "-" {
					s, stdin = s[:len(s)-1], s[len(s)-1]
				}
				c.ok(stdin, s...)
			}
			args := append([]string{"admit", "-f", "-"}, tc.args...)
			code, out, errs := c.run(tc.pod, args...)
			if code != tc.wantCode {
				t.Errorf("podsec %v: exit %d, want %d (stderr %q)", args, code, tc.wantCode, errs)
			}
			if errs != tc.wantErr {
				t.Errorf("podsec %v: stderr\n  %q\nwant\n  %q", args, errs, tc.wantErr)
			}
			for _, w := range tc.wantOutIn {
				if !strings.Contains(out, w) {
					t.Errorf("podsec %v: stdout %q does not contain %q", args, out, w)
				}
			}
			if tc.wantCode != 0 && out != "" {
				t.Errorf("podsec %v: refused, but stdout %q", args, out)
			}
		})
	}
}

func TestAdmitCommandOutput(t *testing.T) {
	c := newCLI(t)
	c.ok(seedPSP, "apply", "-f", "-")
	c.ok("", "create", "clusterrolebinding", "all", "--clusterrole=psp-default", "--group=system:authenticated")
	c.ok("", "create", "clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies")
	c.ok("apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {pod-security.kubernetes.io/audit: restricted}}\n", "apply", "-f", "-")

	out := c.ok(admitPodManifest(`{containers: [{name: main, image: kubia}]}`), "admit", "-f", "-")
	pod := &corev1.Pod{}
	if err := yaml.UnmarshalStrict([]byte(out), pod); err != nil {
		t.Fatalf("podsec admit: stdout is not a pod: %v\n%s", err, out)
	}
	// The API server's defaults and the policy's.
	if pod.Spec.RestartPolicy != corev1.RestartPolicyAlways || pod.Spec.Containers[0].SecurityContext == nil ||
		!*pod.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem || pod.Annotations["kubernetes.io/psp"] != "default" {
		t.Errorf("podsec admit: pod %s", out)
	}

	// Two pods, as JSON: a v1 List.
	two := admitPodManifest(`{containers: [{name: main, image: kubia}]}`) + "---\n" + strings.Replace(admitPodManifest(`{containers: [{name: main, image: kubia}]}`), "name: web", "name: api", 1)
	out = c.ok(two, "admit", "-f", "-", "-o", "json")
	var list struct {
		Kind  string
		Items []corev1.Pod
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || list.Kind != "List" || len(list.Items) != 2 || list.Items[1].Name != "api" {
		t.Errorf("podsec admit -o json with two pods: %v, %s", err, out)
	}

	// The audit mode reports to the audit log.
	data, err := os.ReadFile(filepath.Join(c.root, "audit.log"))
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var e node.AuditEntry
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatalf("audit log line %q: %v", lines[0], err)
	}
	if len(lines) != 3 || !e.Allowed || e.Pod != "web" || e.Namespace != "team" ||
		!strings.HasPrefix(e.Annotations["pod-security.kubernetes.io/audit-violations"], `would violate PodSecurity "restricted:latest": `) ||
		e.Annotations["podsecuritypolicy.policy.k8s.io/admit-policy"] != "default" {
		t.Errorf("audit log: %d lines, first %+v", len(lines), e)
	}
	if code, _, errs := c.run("", "admit", "-f", "-", "-o", "wide"); code == 0 || !strings.Contains(errs, `output format "wide"`) {
		t.Errorf("podsec admit -o wide: exit %d, stderr %q", code, errs)
	}
}

func TestRequesterFor(t *testing.T) {
	tests := []struct {
		as     string
		groups []string
		want   rbac.UserInfo
	}{
		{as: "alice", want: rbac.UserInfo{Name: "alice", Groups: []string{"system:authenticated"}}},
		{as: "alice", groups: []string{"devs"}, want: rbac.UserInfo{Name: "alice", Groups: []string{"devs", "system:authenticated"}}},
		{as: "alice", groups: []string{"system:authenticated", "devs"}, want: rbac.UserInfo{Name: "alice", Groups: []string{"system:authenticated", "devs"}}},
		{as: "system:serviceaccount:team:builder",
			want: rbac.UserInfo{Name: "system:serviceaccount:team:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"}}},
		{as: "system:serviceaccount:team:builder", groups: []string{"x"},
			want: rbac.UserInfo{Name: "system:serviceaccount:team:builder", Groups: []string{"x", "system:authenticated"}}},
		{as: "system:anonymous", want: rbac.UserInfo{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}}},
	}
	for _, tc := range tests {
		got, err := pipeline.Requester(node.CurrentUser(), tc.as, tc.groups)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("pipeline.Requester(%q, %q) = %+v, %v; want %+v", tc.as, tc.groups, got, err, tc.want)
		}
	}
	got, err := pipeline.Requester(node.CurrentUser(), "", nil)
	if err != nil || got.Name != node.CurrentUser() || !reflect.DeepEqual(got.Groups, []string{"system:authenticated"}) {
		t.Errorf("requesterFor(\"\", nil) = %+v, %v; want %q in system:authenticated", got, err, node.CurrentUser())
	}
}

// readTestdata reads a fixture of the repository's testdata, failing the
// test binary at once when it is missing.
func readTestdata(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic("reading test fixture: " + err.Error())
	}
	return string(b)
}
