package rbac

import (
	"fmt"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// scanAuthorize is Authorize without the index: every ClusterRoleBinding,
// then every RoleBinding of the namespace, in order, each subject tried
// in turn, as the API server's RBAC authorizer walks them.
func scanAuthorize(objs Objects, user UserInfo, attrs Attributes) (bool, string) {
	clusterRoles := map[string]*rbacv1.ClusterRole{}
	for _, r := range objs.ClusterRoles {
		clusterRoles[r.Name] = r
	}
	roles := map[nsName]*rbacv1.Role{}
	for _, r := range objs.Roles {
		roles[nsName{r.Namespace, r.Name}] = r
	}
	for _, g := range user.Groups {
		if g == SystemMasters {
			return true, fmt.Sprintf("allowed: member of group %q", SystemMasters)
		}
	}
	for _, b := range objs.ClusterRoleBindings {
		if s, ok := appliesTo(user, b.Subjects, ""); ok && rulesAllow(roleRules(clusterRoles, roles, b.RoleRef, ""), attrs) {
			return true, fmt.Sprintf("RBAC: allowed by ClusterRoleBinding %q of %s %q to %s", b.Name, b.RoleRef.Kind, b.RoleRef.Name, describe(s, ""))
		}
	}
	if attrs.Namespace != "" {
		for _, b := range objs.RoleBindings {
			if b.Namespace != attrs.Namespace {
				continue
			}
			if s, ok := appliesTo(user, b.Subjects, b.Namespace); ok && rulesAllow(roleRules(clusterRoles, roles, b.RoleRef, b.Namespace), attrs) {
				return true, fmt.Sprintf("RBAC: allowed by RoleBinding %q of %s %q to %s", b.Namespace+"/"+b.Name, b.RoleRef.Kind, b.RoleRef.Name, describe(s, b.Namespace))
			}
		}
	}
	return false, ""
}

// indexObjects binds roles granting "use" of policies p0..p5 and "get"
// of pods through every kind of binding and subject, some subjects named
// twice, some bindings to missing roles.
func indexObjects() Objects {
	use := func(names ...string) rbacv1.PolicyRule {
		return rule(l("use"), l("policy"), l("podsecuritypolicies"), names)
	}
	return Objects{
		ClusterRoles: []*rbacv1.ClusterRole{
			clusterRole("use-p0", use("p0")),
			clusterRole("use-p1-p2", use("p1", "p2"), rule(l("get"), l(""), l("pods"), nil)),
			clusterRole("use-all-ext", rule(l("use"), l("extensions"), l("podsecuritypolicies"), nil)),
			clusterRole("star", rule(l("*"), l("*"), l("*"), nil)),
			clusterRole("wrong-verb", rule(l("get"), l("policy"), l("podsecuritypolicies"), l("p5"))),
		},
		Roles: []*rbacv1.Role{
			role("ns1", "use-p3", use("p3")),
			role("ns2", "use-p4", use("p4"), rule(l("get"), l(""), l("pods"), nil)),
		},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			crb("c0", "use-p0", userSubject("alice"), userSubject("alice"), groupSubject("dev")),
			crb("c1", "use-p1-p2", groupSubject("ops")),
			crb("c2", "wrong-verb", userSubject("bob")),
			crb("c3", "missing", userSubject("carol")),
			crb("c4", "use-all-ext", saSubject("ns1", "builder"), saSubject("", "nobody")),
			crb("c5", "star", userSubject("root-ish")),
		},
		RoleBindings: []*rbacv1.RoleBinding{
			rb("ns1", "r0", "Role", "use-p3", saSubject("", "default"), groupSubject("system:serviceaccounts:ns2")),
			rb("ns1", "r1", "ClusterRole", "use-p1-p2", userSubject("bob"), groupSubject("dev")),
			rb("ns2", "r2", "Role", "use-p4", userSubject("alice"), saSubject("ns1", "default")),
			rb("ns2", "r3", "Role", "use-p3", userSubject("alice")),
			rb("ns2", "r4", "ClusterRole", "use-p0", groupSubject(AllAuthenticated)),
			rb("", "r5", "ClusterRole", "star", userSubject("alice")),
		},
	}
}

func TestIndexIsAScan(t *testing.T) {
	objs := indexObjects()
	a := NewAuthorizer(objs)
	users := []UserInfo{
		alice, bob, {Name: "carol", Groups: []string{"ops"}}, {Name: "root-ish"}, {Name: "nobody"},
		ServiceAccountUser("ns1", "builder"), ServiceAccountUser("ns1", "default"), ServiceAccountUser("ns2", "default"),
		ServiceAccountUser("", "nobody"), {Name: "admin", Groups: []string{SystemMasters}},
	}
	var requests []Attributes
	for _, ns := range []string{"", "ns1", "ns2", "ns3"} {
		requests = append(requests, Attributes{Verb: "get", Resource: "pods", Name: "x", Namespace: ns})
		for _, group := range pspGroups {
			for p := range 7 {
				requests = append(requests, Attributes{Verb: VerbUse, APIGroup: group, Resource: ResourcePodSecurityPolicies, Name: fmt.Sprintf("p%d", p), Namespace: ns})
			}
		}
	}
	for _, u := range users {
		for _, attrs := range requests {
			got, reason := a.Authorize(u, attrs)
			want, wantReason := scanAuthorize(objs, u, attrs)
			if got != want || (want && reason != wantReason) {
				t.Errorf("Authorize(%v, %s) = %v %q; scanning the bindings gives %v %q", u, attrs, got, reason, want, wantReason)
			}
		}
		for _, ns := range []string{"ns1", "ns2", "ns3"} {
			for _, sa := range []string{"", "default", "builder"} {
				use := a.PolicyUse(u, ns, sa)
				for p := range 7 {
					name := fmt.Sprintf("p%d", p)
					want := false
					for _, who := range []UserInfo{u, ServiceAccountUser(ns, sa)} {
						if who.Name != u.Name && sa == "" {
							continue
						}
						for _, group := range pspGroups {
							ok, _ := scanAuthorize(objs, who, Attributes{Verb: VerbUse, APIGroup: group, Resource: ResourcePodSecurityPolicies, Name: name, Namespace: ns})
							want = want || ok
						}
					}
					if got := use.Allows(name); got != want {
						t.Errorf("PolicyUse(%v, %s, %q).Allows(%s) = %v, want %v", u, ns, sa, name, got, want)
					}
				}
			}
		}
	}
}
