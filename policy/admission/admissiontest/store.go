package admissiontest

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/rbac"
)

// Objects are the objects admission decides with, as
// admission.Objects holds them (this package cannot name that type:
// admission's own tests import it).
type Objects struct {
	PodSecurityPolicies []*psp.PodSecurityPolicy
	RBAC                rbac.Objects
	NamespaceLabels     map[string]map[string]string
}

// StoreTeams is the number of team namespaces of storeObjects; each has
// five policies of its own, from privileged to restricted.
const StoreTeams = 10

// TeamPolicies are the five policies of team t, in increasing
// strictness but not in name order: privileged, baseline (no host, no
// privilege, a few capabilities), hostpath (read-only /var/log, host
// ports, unsafe sysctls), ranges (user, group, fsGroup and supplemental
// group ranges the pod is defaulted into) and restricted (the restricted
// Pod Security Standard as defaults, with AppArmor and seccomp
// annotations).
func TeamPolicies(t int) []string {
	name := func(kind string) string { return fmt.Sprintf("t%d-%s", t, kind) }
	base := 10000 + 1000*t
	return []string{
		AnyPolicy(name("privileged")),
		`
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: ` + name("baseline") + `}
spec:
  allowedCapabilities: [NET_BIND_SERVICE, CHOWN, SETUID, SETGID]
  allowedProcMountTypes: [Default]
  runAsUser: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  volumes: [configMap, emptyDir, secret, projected, downwardAPI, persistentVolumeClaim, csi, ephemeral]
  allowedCSIDrivers: [{name: csi.example.com}]
`,
		`
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: ` + name("hostpath") + `}
spec:
  hostNetwork: true
  hostPorts: [{min: 8000, max: 8999}, {min: 9100, max: 9100}]
  allowedHostPaths: [{pathPrefix: /var/log, readOnly: true}, {pathPrefix: /var/lib/team` + fmt.Sprint(t) + `}]
  allowedUnsafeSysctls: [net.core.somaxconn]
  forbiddenSysctls: [kernel.msg*]
  defaultAllowPrivilegeEscalation: false
  runAsUser: {rule: MustRunAsNonRoot}
  fsGroup: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  volumes: [hostPath, configMap, emptyDir, secret]
`,
		fmt.Sprintf(`
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: %s}
spec:
  requiredDropCapabilities: [NET_RAW]
  runAsUser: {rule: MustRunAs, ranges: [{min: %d, max: %d}]}
  runAsGroup: {rule: MustRunAs, ranges: [{min: %d, max: %d}]}
  fsGroup: {rule: MustRunAs, ranges: [{min: %d, max: %d}]}
  supplementalGroups: {rule: MayRunAs, ranges: [{min: %d, max: %d}]}
  seLinux: {rule: RunAsAny}
  runtimeClass: {allowedRuntimeClassNames: [runc, gvisor], defaultRuntimeClassName: runc}
  volumes: [configMap, emptyDir, secret, projected]
`, name("ranges"), base, base+999, base, base+999, base, base+999, base, base+999),
		`
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: ` + name("restricted") + `
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: 'runtime/default,docker/default'
    seccomp.security.alpha.kubernetes.io/defaultProfileName: 'runtime/default'
    apparmor.security.beta.kubernetes.io/allowedProfileNames: 'runtime/default'
    apparmor.security.beta.kubernetes.io/defaultProfileName: 'runtime/default'
spec:
  privileged: false
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  readOnlyRootFilesystem: false
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
  fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
  volumes: [configMap, emptyDir, secret, projected, downwardAPI, persistentVolumeClaim, csi, ephemeral]
`,
	}
}

// Store is a store as a cluster of ten teams has it: 50 policies
// of varied strictness and 200 bindings of Roles and ClusterRoles that
// grant "use" of them to users, groups and service accounts, some through
// ClusterRoleBindings, most through RoleBindings of the team namespaces.
func Store(b TB) Objects {
	b.Helper()
	objs := Objects{NamespaceLabels: map[string]map[string]string{}}
	ruleFor := func(names ...string) []rbacv1.PolicyRule {
		return []rbacv1.PolicyRule{{Verbs: []string{"use"}, APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: names}}
	}
	nsRole := func(role string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role}
	}
	// Every team's policies, a ClusterRole per policy.
	for t := range StoreTeams {
		for _, doc := range TeamPolicies(t) {
			p := Policy(b, doc)
			objs.PodSecurityPolicies = append(objs.PodSecurityPolicies, p)
			objs.RBAC.ClusterRoles = append(objs.RBAC.ClusterRoles, UseRole("psp:"+p.Name, p.Name))
		}
		ns := fmt.Sprintf("team-%d", t)
		objs.NamespaceLabels[ns] = map[string]string{
			"pod-security.kubernetes.io/enforce": "baseline",
			"pod-security.kubernetes.io/warn":    "restricted",
		}
		// A Role of the namespace for its service accounts.
		objs.RBAC.Roles = append(objs.RBAC.Roles, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "psp-workloads"},
			Rules: ruleFor(fmt.Sprintf("t%d-restricted", t), fmt.Sprintf("t%d-ranges", t))})
	}
	crb := func(name, role string, subjects ...rbacv1.Subject) {
		objs.RBAC.ClusterRoleBindings = append(objs.RBAC.ClusterRoleBindings, ClusterBinding(name, role, subjects...))
	}
	rb := func(ns, name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) {
		b := RoleBinding(ns, name, ref.Name, subjects...)
		b.RoleRef = ref
		objs.RBAC.RoleBindings = append(objs.RBAC.RoleBindings, b)
	}
	clusterRole := func(name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
	}
	for t := range StoreTeams {
		ns := fmt.Sprintf("team-%d", t)
		// Five bindings a team starts with.
		crb(fmt.Sprintf("t%d-admins", t), fmt.Sprintf("psp:t%d-privileged", t), User(fmt.Sprintf("admin-%d", t)), Group(fmt.Sprintf("team-%d-admins", t)))
		rb(ns, "devs", clusterRole(fmt.Sprintf("psp:t%d-baseline", t)), Group(fmt.Sprintf("team-%d-devs", t)))
		rb(ns, "workloads", nsRole("psp-workloads"), Group("system:serviceaccounts:"+ns))
		rb(ns, "builder", clusterRole(fmt.Sprintf("psp:t%d-ranges", t)), ServiceAccount("", "builder"))
		rb(ns, "logger", clusterRole(fmt.Sprintf("psp:t%d-hostpath", t)), ServiceAccount(ns, "logger"), User(fmt.Sprintf("sre-%d", t)))
		// Then one binding per developer, ten per team, to the team's
		// policies and to a neighbour's baseline.
		for u := range 10 {
			dev := fmt.Sprintf("dev-%d%d", t, u)
			switch u % 3 {
			case 0:
				rb(ns, dev, clusterRole(fmt.Sprintf("psp:t%d-baseline", t)), User(dev))
			case 1:
				rb(ns, dev, nsRole("psp-workloads"), User(dev))
			default:
				rb(fmt.Sprintf("team-%d", (t+1)%StoreTeams), dev, clusterRole(fmt.Sprintf("psp:t%d-baseline", (t+1)%StoreTeams)), User(dev))
			}
		}
		// And ops groups across the cluster.
		for g := range 5 {
			crb(fmt.Sprintf("ops-%d-%d", t, g), fmt.Sprintf("psp:t%d-hostpath", (t+g)%StoreTeams), Group(fmt.Sprintf("ops-%d", g)))
		}
	}
	if n := len(objs.RBAC.ClusterRoleBindings) + len(objs.RBAC.RoleBindings); n != 200 || len(objs.PodSecurityPolicies) != 50 {
		b.Fatalf("%d bindings and %d policies, want 200 and 50", n, len(objs.PodSecurityPolicies))
	}
	return objs
}

// Case is one request of the store benchmarks, with what it must
// come to.
type Case struct {
	Name string
	// User asks for Pod in namespace team-3.
	User rbac.UserInfo
	Pod  *corev1.Pod
	// WantPolicy admits the pod; empty: refused.
	WantPolicy string
}

// Cases are three requests in namespace team-3: a developer's pod
// that its team's baseline policy admits unchanged, a service account's
// pod that the ranges and restricted policies both default (the first by
// name wins), and a developer's privileged pod that no policy it may use
// admits.
func Cases(b TB) []Case {
	b.Helper()
	pod := func(spec string) *corev1.Pod {
		p := &corev1.Pod{}
		doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: team-3, labels: {app: web}}\nspec: " + spec
		if err := yaml.UnmarshalStrict([]byte(doc), p); err != nil {
			b.Fatalf("decoding pod: %v", err)
		}
		return p
	}
	const containers = `[{name: main, image: registry.example.com/web:1.2, ports: [{containerPort: 8080}],
  env: [{name: MODE, value: prod}, {name: LOG, value: info}], volumeMounts: [{name: cache, mountPath: /cache}, {name: config, mountPath: /etc/web}]},
 {name: proxy, image: registry.example.com/envoy:1.30, ports: [{containerPort: 9901}]}]`
	const volumes = `[{name: cache, emptyDir: {}}, {name: config, configMap: {name: web}}]`
	dev := rbac.UserInfo{Name: "dev-30", Groups: []string{"team-3-devs", "ops-4", rbac.AllAuthenticated}}
	sa := rbac.UserInfo{Name: "system:serviceaccount:team-3:deployer", Groups: []string{rbac.AllServiceAccounts, "system:serviceaccounts:team-3", rbac.AllAuthenticated}}
	return []Case{
		{Name: "admitted", WantPolicy: "t3-baseline", User: dev,
			Pod: pod(`{serviceAccountName: web, containers: ` + containers + `, volumes: ` + volumes + `}`)},
		{Name: "mutated", WantPolicy: "t3-ranges", User: sa,
			Pod: pod(`{serviceAccountName: web, containers: ` + containers + `, volumes: ` + volumes + `}`)},
		{Name: "refused", User: dev,
			Pod: pod(`{serviceAccountName: web, hostPID: true, containers: [{name: main, image: busybox, securityContext: {privileged: true}}]}`)},
	}
}
