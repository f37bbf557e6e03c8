package admission

import (
	"unsafe"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/rbac"
)

// index is what Admit makes of Objects before deciding: the policies in
// the order they are tried, each checked once, and the RBAC bindings
// indexed by the subjects they name.
type index struct {
	policies *psp.Set
	authz    *rbac.Authorizer
	// of are the slices indexed, to tell them from others.
	of [5]sliceID
}

// sliceID is a slice's array and length.
type sliceID struct {
	array unsafe.Pointer
	len   int
}

func idOf[T any](s []T) sliceID { return sliceID{unsafe.Pointer(unsafe.SliceData(s)), len(s)} }

func (o *Objects) sliceIDs() [5]sliceID {
	return [5]sliceID{idOf(o.PodSecurityPolicies), idOf(o.RBAC.ClusterRoles), idOf(o.RBAC.ClusterRoleBindings), idOf(o.RBAC.Roles), idOf(o.RBAC.RoleBindings)}
}

// Indexed returns the objects with what Admit makes of them made once:
// the policies sorted by name and checked (psp.NewSet), the RBAC bindings
// indexed by subject with their roles' rules (rbac.NewAuthorizer). Admit
// makes it on every call for objects that are not indexed, which costs
// about as much as the rest of an admission with a few hundred objects:
// index the objects of a store generation once and admit every request
// with them. The objects must not change afterwards; an Objects whose
// policy or RBAC slices are replaced (another slice, another length) is
// indexed again by Admit.
func (o Objects) Indexed() Objects {
	o.index = newIndex(&o)
	return o
}

func newIndex(o *Objects) *index {
	return &index{policies: psp.NewSet(o.PodSecurityPolicies), authz: rbac.NewAuthorizer(o.RBAC), of: o.sliceIDs()}
}

// indexed is the objects' index, made now if they have none or if it was
// made of other slices.
func (o *Objects) indexed() *index {
	if o.index != nil && o.index.of == o.sliceIDs() {
		return o.index
	}
	return newIndex(o)
}
