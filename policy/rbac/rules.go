package rbac

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// rulesAllow reports whether any rule allows the request.
func rulesAllow(rules []rbacv1.PolicyRule, attrs Attributes) bool {
	for i := range rules {
		if RuleAllows(&rules[i], attrs) {
			return true
		}
	}
	return false
}

// RuleAllows reports whether one policy rule allows a resource request.
func RuleAllows(rule *rbacv1.PolicyRule, attrs Attributes) bool {
	combined := attrs.Resource
	if attrs.Subresource != "" {
		combined += "/" + attrs.Subresource
	}
	return matchesOrAll(rule.Verbs, attrs.Verb) &&
		matchesOrAll(rule.APIGroups, attrs.APIGroup) &&
		resourceMatches(rule.Resources, combined, attrs.Subresource) &&
		resourceNameMatches(rule.ResourceNames, attrs.Name)
}

// matchesOrAll is VerbMatches and APIGroupMatches: the value itself or "*".
func matchesOrAll(list []string, v string) bool {
	return slices.Contains(list, rbacv1.VerbAll) || slices.Contains(list, v)
}

// resourceMatches matches "*", the exact "resource[/subresource]", and
// "*/subresource" for a request of that subresource.
func resourceMatches(resources []string, combined, subresource string) bool {
	for _, r := range resources {
		switch {
		case r == rbacv1.ResourceAll, r == combined:
			return true
		case subresource != "" && r == "*/"+subresource:
			return true
		}
	}
	return false
}

// resourceNameMatches: an empty list allows every name; otherwise the
// request must name one of the list, so a list or create (no name) does not
// match a rule with resourceNames.
func resourceNameMatches(names []string, name string) bool {
	return len(names) == 0 || slices.Contains(names, name)
}
