package store

import "github.com/podsec/podsec/policy/admission"

// AdmissionObjects gives admission (pipeline.Admit) the stored objects it
// decides with: the policies, the RBAC objects and each namespace's
// labels. podsec admit, run and the webhook all decide with this.
func (s *Snapshot) AdmissionObjects() admission.Objects {
	labels := make(map[string]map[string]string, len(s.Namespaces))
	for name, ns := range s.Namespaces {
		labels[name] = ns.Labels
	}
	return admission.Objects{PodSecurityPolicies: s.PodSecurityPolicies, RBAC: s.RBAC, NamespaceLabels: labels}
}
