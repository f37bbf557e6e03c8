package store

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/rbac"
)

// Snapshot is every stored object at one moment, typed for the policy
// packages.
type Snapshot struct {
	// Namespaces by name.
	Namespaces map[string]*corev1.Namespace
	// ServiceAccounts of every namespace.
	ServiceAccounts []*corev1.ServiceAccount
	// RBAC holds the roles and bindings for rbac.NewAuthorizer.
	RBAC rbac.Objects
	// PodSecurityPolicies by name order.
	PodSecurityPolicies []*psp.PodSecurityPolicy

	byPlural map[string][]Object
}

// Objects returns the objects of the kind with that plural, of every
// namespace, as the kind's New makes them.
func (s *Snapshot) Objects(plural string) []Object { return s.byPlural[plural] }

// Typed returns the objects of a kind as their Go type T, skipping any that
// are not: Typed[*psp.PodSecurityPolicy](snap, "podsecuritypolicies").
func Typed[T Object](s *Snapshot, plural string) []T {
	var out []T
	for _, o := range s.byPlural[plural] {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// Snapshot reads every object of every kind under one shared lock.
func (s *Store) Snapshot() (*Snapshot, error) {
	snap, _, err := s.snapshot()
	return snap, err
}

// snapshot is Snapshot and the generation it is of.
func (s *Store) snapshot() (*Snapshot, string, error) {
	unlock, err := s.flock(false)
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	gen, err := s.Generation()
	if err != nil {
		return nil, "", err
	}
	snap := &Snapshot{Namespaces: map[string]*corev1.Namespace{}, byPlural: map[string][]Object{}}
	for i := range s.reg.kinds {
		k := &s.reg.kinds[i]
		objs, err := s.list(k, "")
		if err != nil {
			return nil, "", err
		}
		snap.byPlural[k.Plural] = objs
	}
	for _, ns := range Typed[*corev1.Namespace](snap, "namespaces") {
		snap.Namespaces[ns.Name] = ns
	}
	snap.ServiceAccounts = Typed[*corev1.ServiceAccount](snap, "serviceaccounts")
	snap.PodSecurityPolicies = Typed[*psp.PodSecurityPolicy](snap, "podsecuritypolicies")
	snap.RBAC = rbac.Objects{
		ClusterRoles:        Typed[*rbacv1.ClusterRole](snap, "clusterroles"),
		ClusterRoleBindings: Typed[*rbacv1.ClusterRoleBinding](snap, "clusterrolebindings"),
		Roles:               Typed[*rbacv1.Role](snap, "roles"),
		RoleBindings:        Typed[*rbacv1.RoleBinding](snap, "rolebindings"),
	}
	return snap, gen, nil
}
