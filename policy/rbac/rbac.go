package rbac

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Superuser groups and the service account naming of Kubernetes.
const (
	// SystemMasters is the group whose members are allowed everything.
	SystemMasters = "system:masters"
	// AllAuthenticated is the group of every authenticated user.
	AllAuthenticated = "system:authenticated"
	// AllServiceAccounts is the group of every service account.
	AllServiceAccounts = "system:serviceaccounts"

	serviceAccountUserPrefix  = "system:serviceaccount:"
	serviceAccountGroupPrefix = "system:serviceaccounts:"
)

// UserInfo is who asks: a user name and the groups it belongs to.
type UserInfo struct {
	Name   string
	Groups []string
}

// ServiceAccountUser is the user a pod's service account NAME in namespace
// NS acts as: "system:serviceaccount:NS:NAME", in the groups of all service
// accounts, of the namespace's service accounts and of authenticated users.
func ServiceAccountUser(namespace, name string) UserInfo {
	return UserInfo{
		Name:   serviceAccountUserPrefix + namespace + ":" + name,
		Groups: []string{AllServiceAccounts, serviceAccountGroupPrefix + namespace, AllAuthenticated},
	}
}

// Attributes are what a request asks to do, as the API server's
// authorizer.Attributes of a resource request.
type Attributes struct {
	Verb        string
	APIGroup    string
	Resource    string
	Subresource string
	// Name is the object's name; empty for list, watch and create.
	Name string
	// Namespace is empty for cluster-scoped resources.
	Namespace string
}

// String gives the request in the API server's words.
func (a Attributes) String() string {
	res := a.Resource
	if a.APIGroup != "" {
		res += "." + a.APIGroup
	}
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	s := fmt.Sprintf("%s %s", a.Verb, res)
	if a.Name != "" {
		s += fmt.Sprintf(" %q", a.Name)
	}
	if a.Namespace != "" {
		s += fmt.Sprintf(" in namespace %q", a.Namespace)
	}
	return s
}

// Objects are the RBAC objects an Authorizer decides with.
type Objects struct {
	ClusterRoles        []*rbacv1.ClusterRole
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	Roles               []*rbacv1.Role
	RoleBindings        []*rbacv1.RoleBinding
}

// Authorizer decides requests over a fixed set of RBAC objects.
type Authorizer struct {
	clusterRoles        map[string]*rbacv1.ClusterRole
	roles               map[nsName]*rbacv1.Role
	clusterRoleBindings []*rbacv1.ClusterRoleBinding
	roleBindings        map[string][]*rbacv1.RoleBinding // by namespace

	// grants caches, per user and namespace, the bindings that name the
	// user: admission asks about the same users for every policy.
	mu     sync.Mutex
	grants map[grantKey][]grant
}

type grantKey struct{ user, namespace string }

// grant is one binding that names a user, with its role's rules.
type grant struct {
	rules []rbacv1.PolicyRule
	why   func() string
}

type nsName struct{ namespace, name string }

// NewAuthorizer indexes objs. The Authorizer keeps pointers to them: they
// must not change while it is used.
func NewAuthorizer(objs Objects) *Authorizer {
	a := &Authorizer{
		clusterRoles:        make(map[string]*rbacv1.ClusterRole, len(objs.ClusterRoles)),
		roles:               make(map[nsName]*rbacv1.Role, len(objs.Roles)),
		clusterRoleBindings: objs.ClusterRoleBindings,
		roleBindings:        make(map[string][]*rbacv1.RoleBinding),
		grants:              map[grantKey][]grant{},
	}
	for _, r := range objs.ClusterRoles {
		a.clusterRoles[r.Name] = r
	}
	for _, r := range objs.Roles {
		a.roles[nsName{r.Namespace, r.Name}] = r
	}
	for _, b := range objs.RoleBindings {
		a.roleBindings[b.Namespace] = append(a.roleBindings[b.Namespace], b)
	}
	return a
}

// Allowed reports whether objs let user do what attrs ask.
func Allowed(objs Objects, user UserInfo, attrs Attributes) bool {
	ok, _ := NewAuthorizer(objs).Authorize(user, attrs)
	return ok
}

// Authorize reports whether user may do what attrs ask and why, naming the
// binding and role that allow it, as the API server's RBAC authorizer does.
func (a *Authorizer) Authorize(user UserInfo, attrs Attributes) (allowed bool, reason string) {
	if slices.Contains(user.Groups, SystemMasters) {
		return true, fmt.Sprintf("allowed: member of group %q", SystemMasters)
	}
	for _, g := range a.grantsFor(user, attrs.Namespace) {
		if rulesAllow(g.rules, attrs) {
			return true, g.why()
		}
	}
	if attrs.Namespace == "" {
		return false, fmt.Sprintf("RBAC: %q cannot %s at the cluster scope", user.Name, attrs)
	}
	return false, fmt.Sprintf("RBAC: %q cannot %s", user.Name, attrs)
}

// grantsFor lists, in the order the API server tries them, the
// ClusterRoleBindings and the RoleBindings of namespace that name user.
func (a *Authorizer) grantsFor(user UserInfo, namespace string) []grant {
	key := grantKey{user.Name + "\x00" + strings.Join(user.Groups, "\x00"), namespace}
	a.mu.Lock()
	defer a.mu.Unlock()
	if gs, ok := a.grants[key]; ok {
		return gs
	}
	var gs []grant
	for _, b := range a.clusterRoleBindings {
		if subject, ok := appliesTo(user, b.Subjects, ""); ok {
			gs = append(gs, grant{rules: a.rules(b.RoleRef, ""), why: func() string {
				return fmt.Sprintf("RBAC: allowed by ClusterRoleBinding %q of %s %q to %s", b.Name, b.RoleRef.Kind, b.RoleRef.Name, describe(subject, ""))
			}})
		}
	}
	if namespace != "" {
		for _, b := range a.roleBindings[namespace] {
			if subject, ok := appliesTo(user, b.Subjects, b.Namespace); ok {
				gs = append(gs, grant{rules: a.rules(b.RoleRef, b.Namespace), why: func() string {
					return fmt.Sprintf("RBAC: allowed by RoleBinding %q of %s %q to %s", b.Namespace+"/"+b.Name, b.RoleRef.Kind, b.RoleRef.Name, describe(subject, b.Namespace))
				}})
			}
		}
	}
	a.grants[key] = gs
	return gs
}

// rules gives the rules of the role a binding in namespace references; a
// missing role, or a Role referenced from a ClusterRoleBinding, grants
// nothing.
func (a *Authorizer) rules(ref rbacv1.RoleRef, namespace string) []rbacv1.PolicyRule {
	switch ref.Kind {
	case "ClusterRole":
		if r := a.clusterRoles[ref.Name]; r != nil {
			return r.Rules
		}
	case "Role":
		if namespace == "" {
			return nil
		}
		if r := a.roles[nsName{namespace, ref.Name}]; r != nil {
			return r.Rules
		}
	}
	return nil
}

func describe(s rbacv1.Subject, bindingNamespace string) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		return fmt.Sprintf("ServiceAccount %q", ns+"/"+s.Name)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

// appliesTo returns the first subject that names user. A ServiceAccount
// subject without a namespace takes bindingNamespace, the RoleBinding's, or
// matches nothing when that is empty (a ClusterRoleBinding).
func appliesTo(user UserInfo, subjects []rbacv1.Subject, bindingNamespace string) (rbacv1.Subject, bool) {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if user.Name == s.Name {
				return s, true
			}
		case rbacv1.GroupKind:
			if slices.Contains(user.Groups, s.Name) {
				return s, true
			}
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = bindingNamespace
			}
			if ns != "" && user.Name == serviceAccountUserPrefix+ns+":"+s.Name {
				return s, true
			}
		}
	}
	return rbacv1.Subject{}, false
}
