package netpol

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Default fills in what the API server defaults in a NetworkPolicy:
// policyTypes (Ingress, and Egress when there are egress rules) and the
// protocol of ports (TCP).
func Default(np *networkingv1.NetworkPolicy) {
	np.Spec.PolicyTypes = EffectivePolicyTypes(np)
	def := func(ports []networkingv1.NetworkPolicyPort) {
		for i := range ports {
			if ports[i].Protocol == nil {
				tcp := corev1.ProtocolTCP
				ports[i].Protocol = &tcp
			}
		}
	}
	for i := range np.Spec.Ingress {
		def(np.Spec.Ingress[i].Ports)
	}
	for i := range np.Spec.Egress {
		def(np.Spec.Egress[i].Ports)
	}
}

// ValidatePolicy checks a NetworkPolicy's spec as the API server does
// (k8s.io/kubernetes pkg/apis/networking/validation), returning every
// problem with its field path.
func ValidatePolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	spec := field.NewPath("spec")
	opts := metav1validation.LabelSelectorValidationOptions{}
	errs := metav1validation.ValidateLabelSelector(&np.Spec.PodSelector, opts, spec.Child("podSelector"))
	for i, r := range np.Spec.Ingress {
		p := spec.Child("ingress").Index(i)
		errs = append(errs, validatePorts(r.Ports, p.Child("ports"))...)
		errs = append(errs, validatePeers(r.From, p.Child("from"))...)
	}
	for i, r := range np.Spec.Egress {
		p := spec.Child("egress").Index(i)
		errs = append(errs, validatePorts(r.Ports, p.Child("ports"))...)
		errs = append(errs, validatePeers(r.To, p.Child("to"))...)
	}
	seen := map[networkingv1.PolicyType]bool{}
	for i, t := range np.Spec.PolicyTypes {
		p := spec.Child("policyTypes").Index(i)
		switch t {
		case networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress:
		default:
			errs = append(errs, field.NotSupported(p, t, []string{string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}))
		}
		if seen[t] {
			errs = append(errs, field.Duplicate(p, t))
		}
		seen[t] = true
	}
	return errs
}

func validatePorts(ports []networkingv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, po := range ports {
		p := path.Index(i)
		if po.Protocol != nil {
			switch *po.Protocol {
			case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
			default:
				errs = append(errs, field.NotSupported(p.Child("protocol"), *po.Protocol, []string{"TCP", "UDP", "SCTP"}))
			}
		}
		if po.Port == nil {
			if po.EndPort != nil {
				errs = append(errs, field.Forbidden(p.Child("endPort"), "may not be specified when `port` is not specified"))
			}
			continue
		}
		if po.Port.Type == intstr.Int {
			for _, msg := range validation.IsValidPortNum(int(po.Port.IntVal)) {
				errs = append(errs, field.Invalid(p.Child("port"), po.Port.IntVal, msg))
			}
			if po.EndPort != nil {
				if *po.EndPort < po.Port.IntVal {
					errs = append(errs, field.Invalid(p.Child("endPort"), *po.EndPort, "must be greater than or equal to `port`"))
				}
				for _, msg := range validation.IsValidPortNum(int(*po.EndPort)) {
					errs = append(errs, field.Invalid(p.Child("endPort"), *po.EndPort, msg))
				}
			}
			continue
		}
		if po.EndPort != nil {
			errs = append(errs, field.Forbidden(p.Child("endPort"), "may not be specified when `port` is non-numeric"))
		}
		for _, msg := range validation.IsValidPortName(po.Port.StrVal) {
			errs = append(errs, field.Invalid(p.Child("port"), po.Port.StrVal, msg))
		}
	}
	return errs
}

func validatePeers(peers []networkingv1.NetworkPolicyPeer, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	opts := metav1validation.LabelSelectorValidationOptions{}
	for i, pe := range peers {
		p := path.Index(i)
		n := 0
		if pe.PodSelector != nil {
			n++
			errs = append(errs, metav1validation.ValidateLabelSelector(pe.PodSelector, opts, p.Child("podSelector"))...)
		}
		if pe.NamespaceSelector != nil {
			n++
			errs = append(errs, metav1validation.ValidateLabelSelector(pe.NamespaceSelector, opts, p.Child("namespaceSelector"))...)
		}
		if pe.IPBlock != nil {
			if n > 0 {
				errs = append(errs, field.Forbidden(p, "may not specify more than 1 peer type when ipBlock is specified"))
			}
			n++
			errs = append(errs, validateIPBlock(pe.IPBlock, p.Child("ipBlock"))...)
		}
		if n == 0 {
			errs = append(errs, field.Required(p, "must specify a peer"))
		}
	}
	return errs
}

func validateIPBlock(b *networkingv1.IPBlock, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if b.CIDR == "" {
		return append(errs, field.Required(path.Child("cidr"), ""))
	}
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return append(errs, field.Invalid(path.Child("cidr"), b.CIDR, "must be a valid CIDR"))
	}
	for i, ex := range b.Except {
		p := path.Child("except").Index(i)
		x, err := netip.ParsePrefix(ex)
		if err != nil {
			errs = append(errs, field.Invalid(p, ex, "must be a valid CIDR"))
			continue
		}
		if x.Addr().Is4() != cidr.Addr().Is4() || !cidr.Masked().Contains(x.Addr()) || x.Bits() <= cidr.Bits() {
			errs = append(errs, field.Invalid(p, ex, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}
