package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/podsec/podsec/store"
)

func newCreateCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create KIND NAME [flags]",
		Short: "create an RBAC role or binding from flags, as kubectl create does",
		Long: `create makes a ClusterRole, ClusterRoleBinding, Role or RoleBinding from flags
and stores it. It fails if an object of that name exists; use "podsec apply" to
replace one.`,
		Example: `  # Let the group devs use the PodSecurityPolicy restricted (seed section 13.3.5)
  podsec create clusterrole psp-restricted --verb=use --resource=podsecuritypolicies --resource-name=restricted
  podsec create clusterrolebinding psp-devs --clusterrole=psp-restricted --group=devs`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		newCreateRoleCommand(g, true),
		newCreateRoleCommand(g, false),
		newCreateBindingCommand(g, true),
		newCreateBindingCommand(g, false),
	)
	return cmd
}

// validVerbs are the verbs kubectl create role accepts.
var validVerbs = []string{"*", "get", "delete", "list", "create", "update", "patch", "watch", "proxy", "deletecollection", "use", "bind", "escalate", "impersonate"}

type roleOptions struct {
	verbs, resources, resourceNames []string
	namespace                       string
}

func newCreateRoleCommand(g *globals, cluster bool) *cobra.Command {
	o := &roleOptions{}
	kind, use := "Role", "role NAME -n NAMESPACE --verb=VERB --resource=RESOURCE[.GROUP][/SUBRESOURCE] [--resource-name=NAME]"
	example := `  # Let its subjects use the PodSecurityPolicy restricted in namespace team
  podsec create role psp-restricted -n team --verb=use --resource=podsecuritypolicies --resource-name=restricted

  # Read pods and their logs
  podsec create role pod-reader -n team --verb=get,list --resource=pods,pods/log`
	if cluster {
		kind, use = "ClusterRole", "clusterrole NAME --verb=VERB --resource=RESOURCE[.GROUP][/SUBRESOURCE] [--resource-name=NAME]"
		example = `  # Let its subjects use the PodSecurityPolicy restricted
  podsec create clusterrole psp-restricted --verb=use --resource=podsecuritypolicies --resource-name=restricted

  # The same, naming the group
  podsec create clusterrole psp-restricted --verb=use --resource=podsecuritypolicies.policy --resource-name=restricted`
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   "create a " + kind + " with one rule per API group",
		Example: example,
		Args:    exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			rules, err := o.rules()
			if err != nil {
				return err
			}
			meta := metav1.ObjectMeta{Name: args[0]}
			var obj store.Object
			if cluster {
				obj = &rbacv1.ClusterRole{TypeMeta: rbacTypeMeta("ClusterRole"), ObjectMeta: meta, Rules: rules}
			} else {
				meta.Namespace = o.namespace
				obj = &rbacv1.Role{TypeMeta: rbacTypeMeta("Role"), ObjectMeta: meta, Rules: rules}
			}
			return createObject(cmd, g, obj)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.verbs, "verb", nil, "verb the rule allows; repeat or separate with commas")
	f.StringSliceVar(&o.resources, "resource", nil, "resource the rule applies to, as RESOURCE[.GROUP][/SUBRESOURCE]; repeat or separate with commas")
	f.StringSliceVar(&o.resourceNames, "resource-name", nil, "name of an object the rule is limited to; repeat or separate with commas")
	if !cluster {
		addNamespaceFlag(cmd, &o.namespace)
	}
	return cmd
}

func exactlyOneName(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("exactly one NAME is required, got %d", len(args))
	}
	return nil
}

func rbacTypeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: kind}
}

// rules builds kubectl's rules: one per API group, each with every verb,
// the group's resources and the resource names.
func (o *roleOptions) rules() ([]rbacv1.PolicyRule, error) {
	if len(o.verbs) == 0 {
		return nil, errors.New("at least one verb must be specified")
	}
	for _, v := range o.verbs {
		if !slices.Contains(validVerbs, v) {
			return nil, fmt.Errorf("invalid verb: '%s'", v)
		}
	}
	if len(o.resources) == 0 {
		return nil, errors.New("at least one resource must be specified")
	}
	var rules []rbacv1.PolicyRule
	index := map[string]int{} // group -> rule
	for _, r := range o.resources {
		group, resource, err := resolveResource(r)
		if err != nil {
			return nil, err
		}
		i, ok := index[group]
		if !ok {
			i = len(rules)
			index[group] = i
			rules = append(rules, rbacv1.PolicyRule{Verbs: o.verbs, APIGroups: []string{group}, ResourceNames: o.resourceNames})
		}
		if !slices.Contains(rules[i].Resources, resource) {
			rules[i].Resources = append(rules[i].Resources, resource)
		}
	}
	return rules, nil
}

// apiResource is one resource podsec knows the group of, as kubectl learns
// it from the API server's discovery.
type apiResource struct {
	plural, singular, group string
	shortNames              []string
}

// knownResources are the resources of the kinds podsec does not store that
// roles commonly name.
var knownResources = []apiResource{
	{"pods", "pod", "", []string{"po"}},
	{"services", "service", "", []string{"svc"}},
	{"configmaps", "configmap", "", []string{"cm"}},
	{"secrets", "secret", "", nil},
	{"nodes", "node", "", []string{"no"}},
	{"events", "event", "", []string{"ev"}},
	{"endpoints", "endpoints", "", []string{"ep"}},
	{"persistentvolumes", "persistentvolume", "", []string{"pv"}},
	{"persistentvolumeclaims", "persistentvolumeclaim", "", []string{"pvc"}},
	{"deployments", "deployment", "apps", []string{"deploy"}},
	{"replicasets", "replicaset", "apps", []string{"rs"}},
	{"daemonsets", "daemonset", "apps", []string{"ds"}},
	{"statefulsets", "statefulset", "apps", []string{"sts"}},
	{"networkpolicies", "networkpolicy", "networking.k8s.io", []string{"netpol"}},
}

// resolveResource reads RESOURCE[.GROUP][/SUBRESOURCE] and gives the
// group and the plural resource (with its subresource), mapping singular
// and short names, and the group when none is given, as kubectl does
// through discovery: podsecuritypolicies -> policy, pods -> "".
func resolveResource(s string) (group, resource string, err error) {
	name, sub, _ := strings.Cut(s, "/")
	name, group, hasGroup := strings.Cut(name, ".")
	var all []apiResource
	for _, k := range store.Kinds() {
		for _, v := range k.APIVersions {
			g, _ := schema.ParseGroupVersion(v)
			all = append(all, apiResource{k.Plural, k.Singular(), g.Group, k.ShortNames})
		}
	}
	known := false
	for _, r := range append(all, knownResources...) {
		if name != r.plural && name != r.singular && !slices.Contains(r.shortNames, name) {
			continue
		}
		known = true
		if hasGroup && group != r.group {
			continue
		}
		return r.group, withSubresource(r.plural, sub), nil
	}
	switch {
	case name == "":
		return "", "", fmt.Errorf("invalid resource %q", s)
	case known:
		return "", "", fmt.Errorf("the server doesn't have a resource type %q in group %q", name, group)
	case hasGroup && group != "":
		// A resource of a group podsec does not know is taken as written.
		return group, withSubresource(name, sub), nil
	}
	return "", "", fmt.Errorf("the server doesn't have a resource type %q", name)
}

func withSubresource(resource, sub string) string {
	if sub != "" {
		return resource + "/" + sub
	}
	return resource
}

type bindingOptions struct {
	role, clusterRole        string
	users, groups, saStrings []string
	namespace                string
}

func newCreateBindingCommand(g *globals, cluster bool) *cobra.Command {
	o := &bindingOptions{}
	kind, use := "RoleBinding", "rolebinding NAME -n NAMESPACE (--role=ROLE | --clusterrole=CLUSTERROLE) [--user=USER] [--group=GROUP] [--serviceaccount=NAMESPACE:NAME]"
	example := `  # Let the service accounts of namespace team use what the ClusterRole psp-restricted allows, in team only
  podsec create rolebinding psp-restricted -n team --clusterrole=psp-restricted --group=system:serviceaccounts:team

  # Bind the Role psp-restricted of team to the service account team:builder
  podsec create rolebinding builder-psp -n team --role=psp-restricted --serviceaccount=team:builder`
	if cluster {
		kind, use = "ClusterRoleBinding", "clusterrolebinding NAME --clusterrole=CLUSTERROLE [--user=USER] [--group=GROUP] [--serviceaccount=NAMESPACE:NAME]"
		example = `  # Let the group devs use what the ClusterRole psp-restricted allows, everywhere
  podsec create clusterrolebinding psp-devs --clusterrole=psp-restricted --group=devs

  # The same for a user and a service account
  podsec create clusterrolebinding psp-alice --clusterrole=psp-restricted --user=alice --serviceaccount=team:builder`
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   "create a " + kind + " of a role to users, groups and service accounts",
		Example: example,
		Args:    exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := o.roleRef(cluster)
			if err != nil {
				return err
			}
			subjects, err := o.subjects()
			if err != nil {
				return err
			}
			meta := metav1.ObjectMeta{Name: args[0]}
			var obj store.Object
			if cluster {
				obj = &rbacv1.ClusterRoleBinding{TypeMeta: rbacTypeMeta("ClusterRoleBinding"), ObjectMeta: meta, RoleRef: ref, Subjects: subjects}
			} else {
				meta.Namespace = o.namespace
				obj = &rbacv1.RoleBinding{TypeMeta: rbacTypeMeta("RoleBinding"), ObjectMeta: meta, RoleRef: ref, Subjects: subjects}
			}
			return createObject(cmd, g, obj)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.clusterRole, "clusterrole", "", "ClusterRole the binding grants")
	if cluster {
		_ = cmd.MarkFlagRequired("clusterrole")
	} else {
		f.StringVar(&o.role, "role", "", "Role of the namespace the binding grants")
		addNamespaceFlag(cmd, &o.namespace)
	}
	f.StringArrayVar(&o.users, "user", nil, "user to bind the role to; repeatable")
	f.StringArrayVar(&o.groups, "group", nil, "group to bind the role to; repeatable")
	f.StringArrayVar(&o.saStrings, "serviceaccount", nil, "service account to bind the role to, as NAMESPACE:NAME; repeatable")
	return cmd
}

func (o *bindingOptions) roleRef(cluster bool) (rbacv1.RoleRef, error) {
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName}
	switch {
	case cluster:
		ref.Kind, ref.Name = "ClusterRole", o.clusterRole
	case (o.role == "") == (o.clusterRole == ""):
		return ref, errors.New("exactly one of clusterrole or role must be specified")
	case o.role != "":
		ref.Kind, ref.Name = "Role", o.role
	default:
		ref.Kind, ref.Name = "ClusterRole", o.clusterRole
	}
	return ref, nil
}

// subjects lists users, then groups, then service accounts, as kubectl does.
func (o *bindingOptions) subjects() ([]rbacv1.Subject, error) {
	var subjects []rbacv1.Subject
	for _, u := range o.users {
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u})
	}
	for _, g := range o.groups {
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g})
	}
	for _, sa := range o.saStrings {
		ns, name, ok := strings.Cut(sa, ":")
		if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
			return nil, fmt.Errorf("serviceaccount must be <namespace>:<name>, got %q", sa)
		}
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name})
	}
	return subjects, nil
}

// createObject stores a new object and prints it as kubectl does.
func createObject(cmd *cobra.Command, g *globals, obj store.Object) error {
	st, err := openStore(g)
	if err != nil {
		return err
	}
	k, err := st.KindOf(obj.GetObjectKind().GroupVersionKind().GroupVersion().String(), obj.GetObjectKind().GroupVersionKind().Kind)
	if err != nil {
		return err
	}
	obj, err = st.Create(obj)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s/%s created\n", k.KindGroup(k.Group()), obj.GetName())
	return nil
}
