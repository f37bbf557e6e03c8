package rbac

import (
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// Authorizer decides requests over a fixed set of RBAC objects. It is
// built once per set of objects (a store generation) and is safe for
// concurrent use: it is never written after NewAuthorizer.
type Authorizer struct {
	// bindings are the ClusterRoleBindings, then the RoleBindings, in the
	// order of the objects: the order in which the API server tries them.
	bindings []binding
	// byUser and byGroup index the bindings by the subjects they name,
	// each list in binding order. ServiceAccount subjects are indexed by
	// the user name of the account, "system:serviceaccount:NS:NAME".
	byUser, byGroup map[scopedName][]int32
	// slab holds the first entry of every list: most subjects are named
	// by one binding.
	slab []int32
}

// scopedName is a subject's name in the scope a binding grants in: the
// namespace of a RoleBinding, "" for a ClusterRoleBinding.
type scopedName struct{ namespace, name string }

// binding is one ClusterRoleBinding or RoleBinding, by the metadata,
// role reference and subjects of the object, with its role's rules.
type binding struct {
	meta     *metav1.ObjectMeta
	roleRef  *rbacv1.RoleRef
	subjects []rbacv1.Subject
	rules    []rbacv1.PolicyRule
	// namespaced is true for a RoleBinding.
	namespaced bool
}

// namespace is the RoleBinding's namespace; "" for a ClusterRoleBinding.
func (b *binding) namespace() string {
	if b.namespaced {
		return b.meta.Namespace
	}
	return ""
}

type nsName struct{ namespace, name string }

// NewAuthorizer indexes objs: each binding by the subjects it names, with
// its role's rules resolved. The Authorizer keeps pointers into them: they
// must not change while it is used.
func NewAuthorizer(objs Objects) *Authorizer {
	clusterRoles := make(map[string]*rbacv1.ClusterRole, len(objs.ClusterRoles))
	for _, r := range objs.ClusterRoles {
		clusterRoles[r.Name] = r
	}
	roles := make(map[nsName]*rbacv1.Role, len(objs.Roles))
	for _, r := range objs.Roles {
		roles[nsName{r.Namespace, r.Name}] = r
	}
	users, groups := 0, 0
	count := func(subjects []rbacv1.Subject) {
		for _, s := range subjects {
			if s.Kind == rbacv1.GroupKind {
				groups++
			} else {
				users++
			}
		}
	}
	for _, b := range objs.ClusterRoleBindings {
		count(b.Subjects)
	}
	for _, b := range objs.RoleBindings {
		count(b.Subjects)
	}
	a := &Authorizer{
		bindings: make([]binding, 0, len(objs.ClusterRoleBindings)+len(objs.RoleBindings)),
		byUser:   make(map[scopedName][]int32, users),
		byGroup:  make(map[scopedName][]int32, groups),
		slab:     make([]int32, 0, users+groups),
	}
	for _, b := range objs.ClusterRoleBindings {
		a.add(binding{meta: &b.ObjectMeta, roleRef: &b.RoleRef, subjects: b.Subjects, rules: roleRules(clusterRoles, roles, b.RoleRef, "")})
	}
	for _, b := range objs.RoleBindings {
		if b.Namespace == "" {
			// A RoleBinding always has a namespace; one without grants
			// nothing, as it would in no namespace a request names.
			continue
		}
		a.add(binding{meta: &b.ObjectMeta, roleRef: &b.RoleRef, subjects: b.Subjects, rules: roleRules(clusterRoles, roles, b.RoleRef, b.Namespace), namespaced: true})
	}
	return a
}

// add appends b and indexes it under each subject it names, once per
// subject even when the binding names it twice.
func (a *Authorizer) add(b binding) {
	i := int32(len(a.bindings))
	a.bindings = append(a.bindings, b)
	index := func(m map[scopedName][]int32, name string) {
		key := scopedName{b.namespace(), name}
		switch l, ok := m[key]; {
		case !ok:
			a.slab = append(a.slab, i)
			m[key] = a.slab[len(a.slab)-1 : len(a.slab) : len(a.slab)]
		case l[len(l)-1] != i:
			m[key] = append(l, i)
		}
	}
	for _, s := range b.subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			index(a.byUser, s.Name)
		case rbacv1.GroupKind:
			index(a.byGroup, s.Name)
		case rbacv1.ServiceAccountKind:
			if ns := subjectNamespace(s, b.namespace()); ns != "" {
				index(a.byUser, serviceAccountUserPrefix+ns+":"+s.Name)
			}
		}
	}
}

// subjectNamespace is a ServiceAccount subject's namespace: its own, else
// the RoleBinding's; "" (matching nothing) in a ClusterRoleBinding.
func subjectNamespace(s rbacv1.Subject, bindingNamespace string) string {
	if s.Namespace != "" {
		return s.Namespace
	}
	return bindingNamespace
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
	for _, i := range a.grantsFor(user, attrs.Namespace) {
		if b := &a.bindings[i]; rulesAllow(b.rules, attrs) {
			return true, b.why(user)
		}
	}
	if attrs.Namespace == "" {
		return false, fmt.Sprintf("RBAC: %q cannot %s at the cluster scope", user.Name, attrs)
	}
	return false, fmt.Sprintf("RBAC: %q cannot %s", user.Name, attrs)
}

// why is the reason a binding allows a request of user.
func (b *binding) why(user UserInfo) string {
	ns := b.namespace()
	subject, _ := appliesTo(user, b.subjects, ns)
	if ns == "" {
		return fmt.Sprintf("RBAC: allowed by ClusterRoleBinding %q of %s %q to %s", b.meta.Name, b.roleRef.Kind, b.roleRef.Name, describe(subject, ""))
	}
	return fmt.Sprintf("RBAC: allowed by RoleBinding %q of %s %q to %s", ns+"/"+b.meta.Name, b.roleRef.Kind, b.roleRef.Name, describe(subject, ns))
}

// grantsFor lists, in the order the API server tries them, the
// ClusterRoleBindings and the RoleBindings of namespace that name user:
// the index's lists for the user's name and each of its groups, merged.
func (a *Authorizer) grantsFor(user UserInfo, namespace string) []int32 {
	var buf [8][]int32
	lists := a.lists(buf[:0], user, namespace)
	switch len(lists) {
	case 0:
		return nil
	case 1:
		return lists[0]
	}
	var out []int32
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// lists appends to dst the index's lists of the bindings that name user
// by its name or one of its groups, in the cluster and in namespace.
func (a *Authorizer) lists(dst [][]int32, user UserInfo, namespace string) [][]int32 {
	scopes := [2]string{"", namespace}
	n := 1
	if namespace != "" {
		n = 2
	}
	for _, scope := range scopes[:n] {
		if l := a.byUser[scopedName{scope, user.Name}]; len(l) > 0 {
			dst = append(dst, l)
		}
		for _, g := range user.Groups {
			if l := a.byGroup[scopedName{scope, g}]; len(l) > 0 {
				dst = append(dst, l)
			}
		}
	}
	return dst
}

// roleRules gives the rules of the role a binding in namespace references;
// a missing role, or a Role referenced from a ClusterRoleBinding, grants
// nothing.
func roleRules(clusterRoles map[string]*rbacv1.ClusterRole, roles map[nsName]*rbacv1.Role, ref rbacv1.RoleRef, namespace string) []rbacv1.PolicyRule {
	switch ref.Kind {
	case "ClusterRole":
		if r := clusterRoles[ref.Name]; r != nil {
			return r.Rules
		}
	case "Role":
		if namespace == "" {
			return nil
		}
		if r := roles[nsName{namespace, ref.Name}]; r != nil {
			return r.Rules
		}
	}
	return nil
}

func describe(s rbacv1.Subject, bindingNamespace string) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		return fmt.Sprintf("ServiceAccount %q", subjectNamespace(s, bindingNamespace)+"/"+s.Name)
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
			if ns := subjectNamespace(s, bindingNamespace); ns != "" && user.Name == serviceAccountUserPrefix+ns+":"+s.Name {
				return s, true
			}
		}
	}
	return rbacv1.Subject{}, false
}
