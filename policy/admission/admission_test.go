package admission

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/pss"
	"github.com/podsec/podsec/policy/rbac"
)

const forbidden = `pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: `

func TestAdmitSeed(t *testing.T) {
	mustRunAs2 := strings.Replace(seedDefaultPolicy, "  runAsUser:\n    rule: RunAsAny\n",
		"  runAsUser:\n    rule: MustRunAs\n    ranges:\n    - min: 2\n      max: 2\n", 1)
	// Section 13.3.3 shows only the capability fields; the strategies are
	// required.
	capabilities := `
apiVersion: extensions/v1beta1
kind: PodSecurityPolicy
metadata:
  name: default
spec:
  allowedCapabilities: [SYS_TIME]
  defaultAddCapabilities: [CHOWN]
  requiredDropCapabilities: [SYS_ADMIN, SYS_MODULE]
  runAsUser: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  volumes: ['*']
`
	tests := []struct {
		name    string
		policy  string
		pod     string
		wantErr string
		check   func(t *testing.T, pod *corev1.Pod)
	}{
		{name: "default: plain pod gets a read-only root", policy: seedDefaultPolicy, pod: plainSpec,
			check: func(t *testing.T, pod *corev1.Pod) {
				if ro := pod.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem; ro == nil || !*ro {
					t.Errorf("Admit(plain pod) readOnlyRootFilesystem = %v, want true", ro)
				}
			}},
		{name: "default: host port in the first range", policy: seedDefaultPolicy,
			pod: `{containers: [{name: main, image: kubia, ports: [{containerPort: 8080, hostPort: 10000}]}]}`},
		{name: "default: host port in the second range", policy: seedDefaultPolicy,
			pod: `{containers: [{name: main, image: kubia, ports: [{containerPort: 8080, hostPort: 14000}]}]}`},
		{name: "default: host port 9000 of section 13.1.2", policy: seedDefaultPolicy,
			pod:     `{containers: [{name: kubia, image: luksa/kubia, ports: [{containerPort: 8080, hostPort: 9000, protocol: TCP}]}]}`,
			wantErr: forbidden + `[spec.containers[0].hostPort: Invalid value: 9000: Host port 9000 is not allowed to be used. Allowed ports: [10000-11000,13000-14000]]`},
		{name: "default: host port between the ranges", policy: seedDefaultPolicy,
			pod:     `{containers: [{name: main, image: kubia, ports: [{containerPort: 8080, hostPort: 12000}]}]}`,
			wantErr: forbidden + `[spec.containers[0].hostPort: Invalid value: 12000: Host port 12000 is not allowed to be used. Allowed ports: [10000-11000,13000-14000]]`},
		{name: "default: privileged and host namespaces", policy: seedDefaultPolicy,
			pod: `{hostNetwork: true, hostPID: true, hostIPC: true, containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`,
			wantErr: forbidden + `[spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used ` +
				`spec.securityContext.hostPID: Invalid value: true: Host PID is not allowed to be used ` +
				`spec.securityContext.hostIPC: Invalid value: true: Host IPC is not allowed to be used ` +
				`spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`},
		{name: "default: writable root refused", policy: seedDefaultPolicy,
			pod:     `{containers: [{name: main, image: kubia, securityContext: {readOnlyRootFilesystem: false}}]}`,
			wantErr: forbidden + `[spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: false: ReadOnlyRootFilesystem must be set to true]`},
		{name: "MustRunAs 2-2: user 2 by default", policy: mustRunAs2, pod: plainSpec,
			check: func(t *testing.T, pod *corev1.Pod) {
				if uid := pod.Spec.Containers[0].SecurityContext.RunAsUser; uid == nil || *uid != 2 {
					t.Errorf("Admit(plain pod) runAsUser = %v, want 2", uid)
				}
			}},
		{name: "MustRunAs 2-2: guest (405) refused", policy: mustRunAs2,
			pod:     `{containers: [{name: main, image: kubia, securityContext: {runAsUser: 405}}]}`,
			wantErr: forbidden + `[spec.containers[0].securityContext.runAsUser: Invalid value: 405: must be in the ranges: [{2 2}]]`},
		{name: "capabilities: SYS_TIME allowed, CHOWN added, SYS_ADMIN and SYS_MODULE dropped", policy: capabilities,
			pod: `{containers: [{name: main, image: kubia, securityContext: {capabilities: {add: [SYS_TIME]}}}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				want := &corev1.Capabilities{Add: []corev1.Capability{"CHOWN", "SYS_TIME"}, Drop: []corev1.Capability{"SYS_ADMIN", "SYS_MODULE"}}
				if got := pod.Spec.Containers[0].SecurityContext.Capabilities; !apiequality.Semantic.DeepEqual(got, want) {
					t.Errorf("Admit(add SYS_TIME) capabilities = %+v, want %+v", got, want)
				}
			}},
		{name: "capabilities: SYS_ADMIN may not be added", policy: capabilities,
			pod:     `{containers: [{name: main, image: kubia, securityContext: {capabilities: {add: [SYS_ADMIN]}}}]}`,
			wantErr: forbidden + `[spec.containers[0].securityContext.capabilities.add: Invalid value: "SYS_ADMIN": capability may not be added]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := policy(t, tc.policy)
			req := Request{Pod: podWith(t, tc.pod), User: alice}
			res := Admit(req, Objects{PodSecurityPolicies: []*psp.PodSecurityPolicy{p}, RBAC: everyoneMayUse()})
			if got := errText(res.Err); got != tc.wantErr || res.Allowed != (tc.wantErr == "") {
				t.Fatalf("Admit(%s) = allowed %v, error\n  %s\nwant\n  %s", tc.pod, res.Allowed, got, tc.wantErr)
			}
			if tc.wantErr != "" {
				var fe *psp.ForbiddenError
				if res.Pod != nil || !errors.As(res.Err, &fe) || !errors.Is(res.Err, psp.ErrUnableToAdmit) {
					t.Errorf("Admit(%s) = pod %v, error %T; want no pod and a *psp.ForbiddenError", tc.pod, res.Pod != nil, res.Err)
				}
				return
			}
			if res.Policy != "default" || res.Pod.Annotations[psp.ValidatedPSPAnnotation] != "default" {
				t.Errorf("Admit(%s) policy %q, annotation %q; want default", tc.pod, res.Policy, res.Pod.Annotations[psp.ValidatedPSPAnnotation])
			}
			wantAudit := map[string]string{AnnotationAdmitPolicy: "default", AnnotationValidatePolicy: "default", pss.AnnotationEnforcePolicy: "privileged:latest"}
			if !maps.Equal(res.AuditAnnotations, wantAudit) {
				t.Errorf("Admit(%s) audit annotations = %v, want %v", tc.pod, res.AuditAnnotations, wantAudit)
			}
			if tc.check != nil {
				tc.check(t, res.Pod)
			}
		})
	}
}

func TestAdmitAuthorization(t *testing.T) {
	role := []*rbacv1.ClusterRole{useRole("psp-any", "any")}
	crb := func(s rbacv1.Subject) rbac.Objects {
		return rbac.Objects{ClusterRoles: role, ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{clusterBinding("b", "psp-any", s)}}
	}
	rb := func(ns string, s rbacv1.Subject) rbac.Objects {
		return rbac.Objects{ClusterRoles: role, RoleBindings: []*rbacv1.RoleBinding{roleBinding(ns, "b", "psp-any", s)}}
	}
	bob := rbac.UserInfo{Name: "bob", Groups: []string{rbac.AllAuthenticated}}
	tests := []struct {
		name  string
		rbac  rbac.Objects
		user  rbac.UserInfo
		sa    string // the pod's spec.serviceAccountName
		allow bool
	}{
		{name: "no binding", user: alice},
		{name: "binding without its role", user: alice, rbac: rbac.Objects{ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{clusterBinding("b", "psp-any", user("alice"))}}},
		{name: "clusterrolebinding to the user", user: alice, rbac: crb(user("alice")), allow: true},
		{name: "clusterrolebinding to another user", user: bob, rbac: crb(user("alice"))},
		{name: "clusterrolebinding to a group of the user", user: alice, rbac: crb(group("devs")), allow: true},
		{name: "clusterrolebinding to system:authenticated (13.3.5)", user: bob, rbac: crb(group(rbac.AllAuthenticated)), allow: true},
		{name: "clusterrolebinding to the pod's service account", user: bob, sa: "builder", rbac: crb(serviceAccount("team", "builder")), allow: true},
		{name: "clusterrolebinding to another service account", user: bob, sa: "deployer", rbac: crb(serviceAccount("team", "builder"))},
		{name: "clusterrolebinding to the service account of another namespace", user: bob, sa: "builder", rbac: crb(serviceAccount("other", "builder"))},
		{name: "no serviceAccountName is service account default", user: bob, rbac: crb(serviceAccount("team", "default")), allow: true},
		{name: "clusterrolebinding to the namespace's service accounts", user: bob, rbac: crb(group("system:serviceaccounts:team")), allow: true},
		{name: "rolebinding in the pod's namespace to the user", user: alice, rbac: rb("team", user("alice")), allow: true},
		{name: "rolebinding in the pod's namespace to the service account", user: bob, sa: "builder", rbac: rb("team", serviceAccount("", "builder")), allow: true},
		{name: "rolebinding in another namespace does not count", user: alice, rbac: rb("other", user("alice"))},
		{name: "rolebinding in another namespace to the service account does not count", user: bob, sa: "builder", rbac: rb("other", serviceAccount("team", "builder"))},
		{name: "system:masters may use every policy", user: rbac.UserInfo{Name: "root", Groups: []string{rbac.SystemMasters}}, allow: true},
	}
	objs := func(r rbac.Objects) Objects {
		return Objects{PodSecurityPolicies: []*psp.PodSecurityPolicy{policy(t, anyPolicy("any"))}, RBAC: r}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := podWith(t, plainSpec)
			pod.Spec.ServiceAccountName = tc.sa
			res := Admit(Request{Pod: pod, User: tc.user}, objs(tc.rbac))
			if res.Allowed != tc.allow {
				t.Fatalf("Admit(user %v, serviceAccount %q) = allowed %v (%v), want %v", tc.user, tc.sa, res.Allowed, res.Err, tc.allow)
			}
			if !tc.allow {
				// Errors of policies the requester may not use are not shown.
				if want := forbidden + "[]"; errText(res.Err) != want {
					t.Errorf("Admit(user %v, serviceAccount %q) error = %q, want %q", tc.user, tc.sa, errText(res.Err), want)
				}
				// Unusable policies are tried only to explain.
				if len(res.Policies) != 0 {
					t.Errorf("Admit(user %v) policies = %+v, want none tried", tc.user, res.Policies)
				}
				res := Admit(Request{Pod: pod, User: tc.user, Explain: true}, objs(tc.rbac))
				if want := forbidden + "[]"; res.Allowed || errText(res.Err) != want {
					t.Errorf("Admit(user %v, serviceAccount %q, Explain) = allowed %v, error %q, want %q", tc.user, tc.sa, res.Allowed, errText(res.Err), want)
				}
				if len(res.Policies) != 1 || res.Policies[0].Usable || !res.Policies[0].Admits() {
					t.Errorf("Admit(user %v, Explain) policies = %+v, want one unusable policy that admits", tc.user, res.Policies)
				}
			}
		})
	}
}

func TestAdmitSelectionOrder(t *testing.T) {
	// "a-mutating" sorts first and sets runAsUser; "b-plain" admits the
	// pod as it is.
	mutating := strings.Replace(anyPolicy("a-mutating"), "runAsUser: {rule: RunAsAny}", "runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}]}", 1)
	policies := []*psp.PodSecurityPolicy{policy(t, anyPolicy("b-plain")), policy(t, mutating)}
	tests := []struct {
		name       string
		pod        string
		usable     []string
		wantPolicy string
		wantUID    int64 // 0: unset
	}{
		{name: "a non-mutating policy wins over a mutating one that sorts first", pod: plainSpec, usable: []string{"a-mutating", "b-plain"}, wantPolicy: "b-plain"},
		{name: "the mutating policy when the other is not usable", pod: plainSpec, usable: []string{"a-mutating"}, wantPolicy: "a-mutating", wantUID: 1000},
		{name: "both admit unchanged: name order", pod: `{containers: [{name: main, image: kubia, securityContext: {runAsUser: 1500}}]}`,
			usable: []string{"a-mutating", "b-plain"}, wantPolicy: "a-mutating", wantUID: 1500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Admit(Request{Pod: podWith(t, tc.pod), User: alice}, Objects{PodSecurityPolicies: policies, RBAC: everyoneMayUse(tc.usable...)})
			if !res.Allowed || res.Policy != tc.wantPolicy {
				t.Fatalf("Admit(%s, usable %v) = allowed %v, policy %q (%v); want %q", tc.pod, tc.usable, res.Allowed, res.Policy, res.Err, tc.wantPolicy)
			}
			var uid int64
			if sc := res.Pod.Spec.Containers[0].SecurityContext; sc != nil && sc.RunAsUser != nil {
				uid = *sc.RunAsUser
			}
			if uid != tc.wantUID {
				t.Errorf("Admit(%s, usable %v) runAsUser = %d, want %d", tc.pod, tc.usable, uid, tc.wantUID)
			}
			if got := res.Pod.Annotations[psp.ValidatedPSPAnnotation]; got != tc.wantPolicy {
				t.Errorf("Admit(%s) annotation %s = %q, want %q", tc.pod, psp.ValidatedPSPAnnotation, got, tc.wantPolicy)
			}
		})
	}
}

// restrictedPolicy defaults a pod into the restricted Pod Security
// Standard.
const restrictedPolicy = `
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: restricted
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: 'runtime/default'
    seccomp.security.alpha.kubernetes.io/defaultProfileName: 'runtime/default'
spec:
  privileged: false
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  volumes: [configMap, emptyDir, secret]
`

const restrictedReasons = `allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), ` +
	`unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), ` +
	`runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), ` +
	`seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`

func TestAdmitPodSecurityStandards(t *testing.T) {
	enforce := map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}
	warnAudit := map[string]string{"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "baseline"}
	addSysAdmin := strings.Replace(anyPolicy("add-sys-admin"), "allowedCapabilities: ['*']", "defaultAddCapabilities: [SYS_ADMIN]", 1)
	tests := []struct {
		name         string
		labels       map[string]map[string]string
		policies     []string
		pod          string
		wantErr      string
		wantWarnings []string
		wantAudit    map[string]string
	}{
		{name: "namespace not stored: privileged", pod: `{hostPID: true, containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`,
			wantAudit: map[string]string{pss.AnnotationEnforcePolicy: "privileged:latest"}},
		{name: "enforce restricted refuses", labels: map[string]map[string]string{"team": enforce}, pod: plainSpec,
			wantErr:   `pods "web" is forbidden: violates PodSecurity "restricted:latest": ` + restrictedReasons,
			wantAudit: map[string]string{pss.AnnotationEnforcePolicy: "restricted:latest"}},
		{name: "labels of another namespace do not apply", labels: map[string]map[string]string{"other": enforce}, pod: plainSpec,
			wantAudit: map[string]string{pss.AnnotationEnforcePolicy: "privileged:latest"}},
		{name: "warn and audit", labels: map[string]map[string]string{"team": warnAudit},
			pod:          `{containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`,
			wantWarnings: []string{`would violate PodSecurity "restricted:latest": privileged (container "main" must not set securityContext.privileged=true), ` + restrictedReasons},
			wantAudit: map[string]string{pss.AnnotationEnforcePolicy: "privileged:latest",
				pss.AnnotationAuditViolations: `would violate PodSecurity "baseline:latest": privileged (container "main" must not set securityContext.privileged=true)`}},
		{name: "PodSecurityPolicy defaults first, then restricted admits", labels: map[string]map[string]string{"team": enforce},
			policies: []string{restrictedPolicy}, pod: plainSpec,
			wantAudit: map[string]string{pss.AnnotationEnforcePolicy: "restricted:latest", AnnotationAdmitPolicy: "restricted", AnnotationValidatePolicy: "restricted"}},
		{name: "PodSecurity judges the pod as PodSecurityPolicy changed it", labels: map[string]map[string]string{"team": {"pod-security.kubernetes.io/enforce": "baseline"}},
			policies: []string{addSysAdmin}, pod: plainSpec,
			wantErr:   `pods "web" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "main" must not include "SYS_ADMIN" in securityContext.capabilities.add)`,
			wantAudit: map[string]string{pss.AnnotationEnforcePolicy: "baseline:latest", AnnotationAdmitPolicy: "add-sys-admin"}},
		{name: "PodSecurityPolicy refuses before PodSecurity runs", labels: map[string]map[string]string{"team": enforce},
			policies: []string{restrictedPolicy}, pod: `{containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`,
			wantErr:   forbidden + `[spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`,
			wantAudit: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := Objects{NamespaceLabels: tc.labels, RBAC: everyoneMayUse()}
			for _, doc := range tc.policies {
				objs.PodSecurityPolicies = append(objs.PodSecurityPolicies, policy(t, doc))
			}
			res := Admit(Request{Pod: podWith(t, tc.pod), User: alice}, objs)
			if got := errText(res.Err); got != tc.wantErr || res.Allowed != (tc.wantErr == "") {
				t.Errorf("Admit(%s in %v) = allowed %v, error\n  %s\nwant\n  %s", tc.pod, tc.labels, res.Allowed, got, tc.wantErr)
			}
			if !slices.Equal(res.Warnings, tc.wantWarnings) {
				t.Errorf("Admit(%s in %v) warnings =\n  %q\nwant\n  %q", tc.pod, tc.labels, res.Warnings, tc.wantWarnings)
			}
			if !maps.Equal(res.AuditAnnotations, tc.wantAudit) {
				t.Errorf("Admit(%s in %v) audit annotations =\n  %v\nwant\n  %v", tc.pod, tc.labels, res.AuditAnnotations, tc.wantAudit)
			}
		})
	}
}

func TestAdmitWithoutPolicies(t *testing.T) {
	pod := podWith(t, `{hostNetwork: true, containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`)
	// RBAC objects alone do not turn PodSecurityPolicy on.
	res := Admit(Request{Pod: pod, User: rbac.UserInfo{Name: "nobody"}}, Objects{RBAC: everyoneMayUse("x")})
	if !res.Allowed || res.Policy != "" || res.Policies != nil {
		t.Fatalf("Admit(no policies) = allowed %v, policy %q, %d results (%v); want allowed, no policy", res.Allowed, res.Policy, len(res.Policies), res.Err)
	}
	if !apiequality.Semantic.DeepEqual(res.Pod, pod) {
		t.Errorf("Admit(no policies) changed the pod: annotations %v", res.Pod.Annotations)
	}
	if res.Pod == pod {
		t.Error("Admit(no policies) returned the request's pod, want a copy")
	}
}

func TestAdmitUnusablePolicies(t *testing.T) {
	// A policy whose MustRunAs has no ranges is skipped, as Kubernetes
	// skipped a provider it could not build.
	broken := &psp.PodSecurityPolicy{}
	*broken = *policy(t, anyPolicy("broken"))
	broken.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs}
	res := Admit(Request{Pod: podWith(t, plainSpec), User: alice}, Objects{PodSecurityPolicies: []*psp.PodSecurityPolicy{broken}, RBAC: everyoneMayUse()})
	want := `pods "web" is forbidden: PodSecurityPolicy: no providers available to validate pod request`
	if errText(res.Err) != want || !errors.Is(res.Err, psp.ErrNoProviders) {
		t.Errorf("Admit(only an unusable policy) error = %v, want %q", res.Err, want)
	}
}

func TestAdmitPhases(t *testing.T) {
	readOnly := policy(t, seedDefaultPolicy)
	objs := Objects{PodSecurityPolicies: []*psp.PodSecurityPolicy{readOnly, policy(t, anyPolicy("z-any"))}, RBAC: everyoneMayUse("default"),
		NamespaceLabels: map[string]map[string]string{"team": {"pod-security.kubernetes.io/warn": "baseline"}}}
	privileged := `{containers: [{name: main, image: kubia, securityContext: {privileged: true}}]}`

	mut := Admit(Request{Pod: podWith(t, plainSpec), User: alice, Phase: Mutating}, objs)
	if !mut.Allowed || mut.Policy != "default" || len(mut.Warnings) != 0 || mut.AuditAnnotations[AnnotationAdmitPolicy] != "default" {
		t.Fatalf("Admit(Mutating) = allowed %v, policy %q, warnings %q, audit %v", mut.Allowed, mut.Policy, mut.Warnings, mut.AuditAnnotations)
	}
	// The validating phase sees the mutated pod and takes the annotated
	// policy first.
	val := Admit(Request{Pod: mut.Pod, User: alice, Phase: Validating}, objs)
	if !val.Allowed || val.Policy != "default" || val.AuditAnnotations[AnnotationValidatePolicy] != "default" {
		t.Errorf("Admit(Validating, mutated pod) = allowed %v, policy %q (%v)", val.Allowed, val.Policy, val.Err)
	}
	// Validation never mutates: the unmutated pod has no policy.
	val = Admit(Request{Pod: podWith(t, plainSpec), User: alice, Phase: Validating}, objs)
	wantErr := `pods "web" is forbidden: PodSecurityPolicy: unable to validate pod: []`
	if errText(val.Err) != wantErr || !errors.Is(val.Err, ErrUnableToValidate) {
		t.Errorf("Admit(Validating, unmutated pod) error = %v, want %q", val.Err, wantErr)
	}
	// Validation errors of usable policies are listed.
	val = Admit(Request{Pod: podWith(t, privileged), User: alice, Phase: Validating}, objs)
	if !strings.Contains(errText(val.Err), "unable to validate pod: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed") {
		t.Errorf("Admit(Validating, privileged pod) error = %v", val.Err)
	}
	if len(val.Warnings) != 1 {
		t.Errorf("Admit(Validating, privileged pod) warnings = %q, want the baseline warning", val.Warnings)
	}

	// UPDATE: no mutation; a pod admitted before is validated again.
	old := mut.Pod
	upd := old.DeepCopy()
	upd.Spec.Containers[0].Image = "kubia:v2"
	res := Admit(Request{Pod: upd, OldPod: old, User: alice, Operation: Update}, objs)
	if !res.Allowed || res.Policy != "default" || res.AuditAnnotations[AnnotationAdmitPolicy] != "" {
		t.Errorf("Admit(Update, image) = allowed %v, policy %q, audit %v (%v)", res.Allowed, res.Policy, res.AuditAnnotations, res.Err)
	}
	res = Admit(Request{Pod: upd, OldPod: old, User: alice, Operation: Update, Phase: Mutating}, objs)
	if !res.Allowed || res.Policy != "" || !apiequality.Semantic.DeepEqual(res.Pod, upd) {
		t.Errorf("Admit(Update, Mutating) = allowed %v, policy %q; want the pod unchanged", res.Allowed, res.Policy)
	}
	// A pod no policy admits any more may still get its finalizers
	// changed, as the garbage collector does.
	stale := podWith(t, privileged)
	gc := stale.DeepCopy()
	gc.Finalizers = []string{"example.com/cleanup"}
	if res := Admit(Request{Pod: gc, OldPod: stale, User: alice, Operation: Update}, objs); !res.Allowed {
		t.Errorf("Admit(Update, finalizers only) refused: %v", res.Err)
	}
	// As the API server sends it: every write also rewrites managedFields
	// (and a client may send a selfLink), which 1.24's
	// IsOnlyMutatingGCFields ignored too. An owner reference is a GC field.
	gc.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: "u1"}}
	gc.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1"}}
	gc.SelfLink = "/api/v1/namespaces/team/pods/web"
	if res := Admit(Request{Pod: gc, OldPod: stale, User: rbac.UserInfo{Name: "system:serviceaccount:kube-system:generic-garbage-collector"}, Operation: Update}, objs); !res.Allowed {
		t.Errorf("Admit(Update, finalizers, ownerReferences and managedFields only) refused: %v", res.Err)
	}
	gc.Labels = map[string]string{"app": "web"}
	if res := Admit(Request{Pod: gc, OldPod: stale, User: alice, Operation: Update}, objs); res.Allowed {
		t.Error("Admit(Update, finalizers and labels of a privileged pod) allowed, want refused")
	}
}

func TestSignificantPodUpdate(t *testing.T) {
	base := func() *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "i"}},
			Containers:     []corev1.Container{{Name: "main", Image: "m"}},
		}}
	}
	tests := []struct {
		name   string
		change func(*corev1.Pod)
		want   bool
	}{
		{name: "labels", change: func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }},
		{name: "image", change: func(p *corev1.Pod) { p.Spec.Containers[0].Image = "m2" }, want: true},
		{name: "init image", change: func(p *corev1.Pod) { p.Spec.InitContainers[0].Image = "i2" }, want: true},
		{name: "seccomp annotation", change: func(p *corev1.Pod) {
			p.Annotations = map[string]string{corev1.SeccompContainerAnnotationKeyPrefix + "main": "unconfined"}
		}, want: true},
		{name: "ephemeral container", change: func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		}, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.change(p)
			if got := significantPodUpdate(p, base()); got != tc.want {
				t.Errorf("significantPodUpdate(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
	if !significantPodUpdate(base(), nil) {
		t.Error("significantPodUpdate(pod, nil) = false, want true")
	}
}
