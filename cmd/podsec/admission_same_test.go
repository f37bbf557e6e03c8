package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
)

// answer is what one entry point decided about a pod: allowed or not, the
// refusal's message and admission's warnings.
type answer struct {
	Allowed  bool
	Message  string
	Warnings []string
}

// TestAdmissionOneAnswer gives the same pods, as the same requester, to
// podsec admit, to the webhook (/mutate, then /validate with the mutated
// pod, as an API server calls them) and to podsec run, and expects one
// answer from all three: the same verdict, refusal message and warnings.
// The pods are refused by PodSecurityPolicy (privileged, a host port out
// of range, a requester no policy is bound to), refused by the Pod
// Security Standards (a hostPath under baseline), admitted with a warning
// (restricted in warn mode) and admitted.
func TestAdmissionOneAnswer(t *testing.T) {
	bin := podsecBinary(t) // run runs pods: root, as the lifecycle tests
	c := newCLI(t)
	c.ok(seedPSP, "apply", "-f", "-")
	c.ok("", "create", "clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=default")
	c.ok("", "create", "clusterrolebinding", "psp-alice", "--clusterrole=psp-default", "--user=alice")
	c.ok("apiVersion: v1\nkind: Namespace\nmetadata: {name: warned, labels: {pod-security.kubernetes.io/warn: restricted}}\n", "apply", "-f", "-")
	c.ok("apiVersion: v1\nkind: Namespace\nmetadata: {name: baseline, labels: {pod-security.kubernetes.io/enforce: baseline}}\n", "apply", "-f", "-")
	base, client := webhookServer(t, c.root)

	// The image is the node's own and absent: a pod admitted by run stops
	// at its image, never pulled, and runs nothing.
	pod := func(ns, container, extra string) string {
		return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"` + ns + `"},"spec":{` + extra +
			`"containers":[{"name":"main","image":"localhost/absent:latest","command":["true"]` + container + `}]}}`
	}
	forbidden := `pods "web" is forbidden: `
	tests := []struct {
		name, user, ns, pod string
		want                answer
	}{
		{name: "privileged", user: "alice", ns: "team", pod: pod("team", `,"securityContext":{"privileged":true}`, ""),
			want: answer{Message: forbidden + "PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]"}},
		{name: "host port out of range", user: "alice", ns: "team", pod: pod("team", `,"ports":[{"containerPort":80,"hostPort":12000}]`, ""),
			want: answer{Message: forbidden + "PodSecurityPolicy: unable to admit pod: [spec.containers[0].hostPort: Invalid value: 12000: Host port 12000 is not allowed to be used. Allowed ports: [10000-11000,13000-14000]]"}},
		{name: "no policy for bob", user: "bob", ns: "team", pod: pod("team", "", ""),
			want: answer{Message: forbidden + "PodSecurityPolicy: unable to admit pod: []"}},
		{name: "hostPath under baseline", user: "alice", ns: "baseline", pod: pod("baseline", "", `"volumes":[{"name":"h","hostPath":{"path":"/tmp"}}],`),
			want: answer{Message: forbidden + `violates PodSecurity "baseline:latest": hostPath volumes (volume "h")`}},
		{name: "warned by restricted", user: "alice", ns: "warned", pod: pod("warned", "", ""),
			want: answer{Allowed: true, Warnings: []string{`would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`}}},
		{name: "admitted", user: "alice", ns: "team", pod: pod("team", "", ""), want: answer{Allowed: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]answer{
				"podsec admit": cliAnswer(t, c, nil, tc.pod, "admit", "-f", "-", "--as", tc.user),
				"the webhook":  webhookAnswer(t, base, client, tc.ns, tc.user, tc.pod),
				"podsec run":   cliAnswer(t, c, &bin, tc.pod, "run", "--network", "none", "-f", "-", "--as", tc.user),
			}
			for from, a := range got {
				if !reflect.DeepEqual(a, tc.want) {
					t.Errorf("%s: %+v, want %+v", from, a, tc.want)
				}
			}
		})
	}
}

// cliAnswer runs a podsec command line (in-process, or the binary at bin)
// on the pod and reads its answer from stderr: "Warning: " lines and the
// "error: " line of a refusal. A pod admitted by run fails at its absent
// image, which is no refusal.
func cliAnswer(t *testing.T, c *cli, bin *string, pod string, args ...string) answer {
	t.Helper()
	var stderr string
	if bin == nil {
		_, _, stderr = c.run(pod, args...)
	} else {
		cmd := exec.Command(*bin, append([]string{"--root", c.root}, args...)...)
		cmd.Stdin = strings.NewReader(pod)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		_ = cmd.Run()
		stderr = errb.String()
	}
	a := answer{Allowed: true}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		switch {
		case strings.HasPrefix(line, "Warning: "):
			a.Warnings = append(a.Warnings, strings.TrimPrefix(line, "Warning: "))
		case strings.HasPrefix(line, `error: pods "web" is forbidden: `):
			a.Allowed, a.Message = false, strings.TrimPrefix(line, "error: ")
		case strings.HasPrefix(line, "error: ") && (bin == nil || !strings.Contains(line, "localhost/absent:latest")):
			t.Errorf("podsec %v: unexpected %q", args, line)
		}
	}
	return a
}

// webhookAnswer posts the pod to /mutate and, when allowed, the mutated
// pod to /validate, as an API server does; the warnings are /validate's.
func webhookAnswer(t *testing.T, base string, client *http.Client, ns, user, pod string) answer {
	t.Helper()
	u := authenticationv1.UserInfo{Username: user, Groups: []string{"system:authenticated"}}
	post := func(path, obj string) *admissionv1.AdmissionResponse {
		resp, err := client.Post(base+path, "application/json", bytes.NewReader(reviewOf(t, admissionv1.Create, ns, u, obj, "")))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(data, &review); err != nil || review.Response == nil {
			t.Fatalf("POST %s: %s: %v: %s", path, resp.Status, err, data)
		}
		return review.Response
	}
	r := post("/mutate", pod)
	if !r.Allowed {
		return answer{Message: r.Result.Message, Warnings: r.Warnings}
	}
	v := post("/validate", string(applyJSONPatch(t, []byte(pod), r.Patch)))
	a := answer{Allowed: v.Allowed, Warnings: append(r.Warnings, v.Warnings...)}
	if !v.Allowed {
		a.Message = v.Result.Message
	}
	return a
}
