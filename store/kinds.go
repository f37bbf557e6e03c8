package store

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podsec/podsec/policy/netpol"
	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/spec"
)

// Object is what the store holds: an API object with its metadata and
// apiVersion/kind, as every k8s.io/api type and unstructured.Unstructured
// are (through their ObjectMeta and TypeMeta).
type Object interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// Kind describes one kind of object the store keeps.
type Kind struct {
	// Kind is the object's kind, as in manifests: "ClusterRole".
	Kind string
	// APIVersions are the apiVersions a manifest may give the kind in. The
	// first is the one objects are stored and printed in; the others name
	// the same schema (PodSecurityPolicy: policy/v1beta1 and
	// extensions/v1beta1).
	APIVersions []string
	// Plural is the resource name and the directory of the objects.
	Plural string
	// ShortNames are kubectl's abbreviations ("psp", "ns", "sa").
	ShortNames []string
	// Namespaced kinds live in a namespace, "default" when none is given.
	Namespaced bool
	// New returns an empty object to decode into.
	New func() Object
	// Default fills in what the API server defaults, if anything.
	Default func(Object)
	// ValidateName checks metadata.name; nil means a DNS-1123 subdomain.
	ValidateName apivalidation.ValidateNameFunc
	// Validate returns the kind's own problems with field paths; the store
	// checks metadata itself. Nil means nothing more to check.
	Validate func(Object) field.ErrorList
}

// Group is the kind's API group ("" for the core group).
func (k *Kind) Group() string {
	return apiGroup(k.APIVersions[0])
}

// Singular is the lower-case kind, kubectl's singular resource name.
func (k *Kind) Singular() string { return strings.ToLower(k.Kind) }

// Resource is the plural with its group, as the API server names a
// resource in messages: "clusterroles.rbac.authorization.k8s.io", "namespaces".
func (k *Kind) Resource() string {
	if g := k.Group(); g != "" {
		return k.Plural + "." + g
	}
	return k.Plural
}

// KindGroup is the singular with its group, as kubectl prints objects:
// "clusterrole.rbac.authorization.k8s.io", "namespace".
func (k *Kind) KindGroup(group string) string {
	if group != "" {
		return k.Singular() + "." + group
	}
	return k.Singular()
}

func apiGroup(apiVersion string) string {
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// Kinds is the table of the kinds podsec keeps, in the order they are
// listed. Later issues add NetworkPolicies, ConfigMaps and Secrets here.
func Kinds() []Kind {
	return []Kind{
		{
			Kind: "Namespace", APIVersions: []string{"v1"}, Plural: "namespaces", ShortNames: []string{"ns"},
			New:          func() Object { return &corev1.Namespace{} },
			Default:      defaultNamespace,
			ValidateName: apivalidation.ValidateNamespaceName,
			Validate:     validateNamespace,
		},
		{
			Kind: "ServiceAccount", APIVersions: []string{"v1"}, Plural: "serviceaccounts", ShortNames: []string{"sa"}, Namespaced: true,
			New: func() Object { return &corev1.ServiceAccount{} },
		},
		{
			Kind: psp.Kind, APIVersions: psp.APIVersions, Plural: "podsecuritypolicies", ShortNames: []string{"psp"},
			New:      func() Object { return &psp.PodSecurityPolicy{} },
			Validate: func(obj Object) field.ErrorList { return psp.ValidatePolicy(obj.(*psp.PodSecurityPolicy)) },
		},
		{
			Kind: "NetworkPolicy", APIVersions: []string{"networking.k8s.io/v1"}, Plural: "networkpolicies",
			ShortNames: []string{"netpol"}, Namespaced: true,
			New:      func() Object { return &networkingv1.NetworkPolicy{} },
			Default:  func(o Object) { netpol.Default(o.(*networkingv1.NetworkPolicy)) },
			Validate: func(o Object) field.ErrorList { return netpol.ValidatePolicy(o.(*networkingv1.NetworkPolicy)) },
		},
		{
			Kind: "ClusterRole", APIVersions: []string{"rbac.authorization.k8s.io/v1"}, Plural: "clusterroles",
			New:          func() Object { return &rbacv1.ClusterRole{} },
			ValidateName: pathSegmentName,
			Validate:     validateClusterRole,
		},
		{
			Kind: "ClusterRoleBinding", APIVersions: []string{"rbac.authorization.k8s.io/v1"}, Plural: "clusterrolebindings",
			New:          func() Object { return &rbacv1.ClusterRoleBinding{} },
			Default:      defaultClusterRoleBinding,
			ValidateName: pathSegmentName,
			Validate:     validateClusterRoleBinding,
		},
		{
			Kind: "Role", APIVersions: []string{"rbac.authorization.k8s.io/v1"}, Plural: "roles", Namespaced: true,
			New:          func() Object { return &rbacv1.Role{} },
			ValidateName: pathSegmentName,
			Validate:     validateRole,
		},
		{
			Kind: "RoleBinding", APIVersions: []string{"rbac.authorization.k8s.io/v1"}, Plural: "rolebindings", Namespaced: true,
			New:          func() Object { return &rbacv1.RoleBinding{} },
			Default:      defaultRoleBinding,
			ValidateName: pathSegmentName,
			Validate:     validateRoleBinding,
		},
	}
}

// registry indexes a table of kinds.
type registry struct {
	kinds []Kind
}

func newRegistry(kinds []Kind) (*registry, error) {
	seen := map[string]bool{}
	for i := range kinds {
		k := &kinds[i]
		if k.Kind == "" || k.Plural == "" || len(k.APIVersions) == 0 || k.New == nil {
			return nil, fmt.Errorf("kind %d (%q): Kind, Plural, APIVersions and New are required", i, k.Kind)
		}
		names := map[string]bool{}
		for _, n := range append([]string{k.Plural, k.Singular()}, k.ShortNames...) {
			names[strings.ToLower(n)] = true
		}
		for n := range names {
			if seen[n] {
				return nil, fmt.Errorf("kind %q: name %q is registered twice", k.Kind, n)
			}
			seen[n] = true
		}
	}
	return &registry{kinds: kinds}, nil
}

// byType finds the kind of a manifest's apiVersion and kind.
func (r *registry) byType(apiVersion, kind string) (*Kind, error) {
	for i := range r.kinds {
		k := &r.kinds[i]
		if k.Kind == kind && slices.Contains(k.APIVersions, apiVersion) {
			return k, nil
		}
	}
	return nil, &kindError{fmt.Sprintf("no matches for kind %q in version %q", kind, apiVersion)}
}

// resolve finds a kind by any name kubectl accepts for it: plural,
// singular, short name or kind, in any case, optionally followed by
// ".group" ("podsecuritypolicies.policy", "clusterrole.rbac.authorization.k8s.io").
func (r *registry) resolve(name string) (*Kind, error) {
	lower := strings.ToLower(name)
	for i := range r.kinds {
		k := &r.kinds[i]
		for _, n := range append([]string{k.Plural, k.Singular()}, k.ShortNames...) {
			if lower == n {
				return k, nil
			}
			for _, v := range k.APIVersions {
				if g := apiGroup(v); g != "" && lower == n+"."+g {
					return k, nil
				}
			}
		}
	}
	return nil, &kindError{fmt.Sprintf("the server doesn't have a resource type %q", name)}
}

// Decode decodes one manifest document as the registered kind it names,
// strictly (an unknown field is an error with its path).
func (s *Store) Decode(doc spec.Document) (Object, *Kind, error) {
	k, err := s.reg.byType(doc.TypeMeta.APIVersion, doc.TypeMeta.Kind)
	if err != nil {
		return nil, nil, &spec.DecodeError{Index: doc.Index, Errs: []error{err}}
	}
	obj := k.New()
	if err := spec.DecodeStrict(doc, obj); err != nil {
		return nil, nil, err
	}
	return obj, k, nil
}
