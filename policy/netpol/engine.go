package netpol

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Input is what the verdicts depend on: the namespaces with their labels,
// the pods, and the NetworkPolicies.
type Input struct {
	Namespaces []Namespace
	Pods       []Pod
	Policies   []*networkingv1.NetworkPolicy
}

// Engine answers whether connections are allowed under a set of policies.
// It is immutable once built; build a new one when anything changes.
type Engine struct {
	policies []*policy // sorted by namespace/name
	pods     []*Pod    // sorted by namespace/name
	nsLabels map[string]labels.Set
}

// policy is a NetworkPolicy with its selectors parsed and its defaults
// applied.
type policy struct {
	key       string // namespace/name
	namespace string
	selector  labels.Selector
	selStr    string
	types     [2]bool // by Direction: the policy isolates in that direction
	rules     [2][]rule
}

// rule is one ingress or egress rule.
type rule struct {
	peers []peer     // empty: every address
	ports []portRule // empty: every port and protocol
}

// peer is one from/to entry.
type peer struct {
	pods, namespaces labels.Selector // nil: not given
	block            *ipBlock
	desc             string
}

type ipBlock struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

// portRule is one ports entry.
type portRule struct {
	proto     corev1.Protocol
	any       bool // no port: every port of the protocol
	from, to  int32
	name      string // a named port, resolved on the destination pod
	desc      string
	protoNum  uint8
	namedPort bool
}

// New builds the engine. Policies must be valid (ValidatePolicy); an
// invalid selector or CIDR is an error naming the policy.
func New(in Input) (*Engine, error) {
	e := &Engine{nsLabels: map[string]labels.Set{}}
	for _, ns := range in.Namespaces {
		l := labels.Set{}
		for k, v := range ns.Labels {
			l[k] = v
		}
		l[corev1.LabelMetadataName] = ns.Name
		e.nsLabels[ns.Name] = l
	}
	for i := range in.Pods {
		p := &in.Pods[i]
		if p.Namespace == "" {
			p.Namespace = "default"
		}
		e.pods = append(e.pods, p)
	}
	sortPods(e.pods)
	sc := selectorCache{}
	for _, np := range in.Policies {
		p, err := sc.parsePolicy(np)
		if err != nil {
			return nil, err
		}
		e.policies = append(e.policies, p)
	}
	slices.SortFunc(e.policies, func(a, b *policy) int { return strings.Compare(a.key, b.key) })
	return e, nil
}

// Pods are the engine's pods, sorted by namespace and name.
func (e *Engine) Pods() []*Pod { return e.pods }

// namespaceLabels are a namespace's labels; a namespace the engine was not
// told about has only its name label.
func (e *Engine) namespaceLabels(ns string) labels.Set {
	if l, ok := e.nsLabels[ns]; ok {
		return l
	}
	return labels.Set{corev1.LabelMetadataName: ns}
}

func (sc selectorCache) parsePolicy(np *networkingv1.NetworkPolicy) (*policy, error) {
	ns := np.Namespace
	if ns == "" {
		ns = "default"
	}
	p := &policy{key: ns + "/" + np.Name, namespace: ns}
	fail := func(path string, err error) (*policy, error) {
		return nil, fmt.Errorf("networkpolicy %s: %s: %w", p.key, path, err)
	}
	var err error
	if p.selector, err = sc.parse(&np.Spec.PodSelector); err != nil {
		return fail("spec.podSelector", err)
	}
	p.selStr = selectorString(p.selector)
	for _, t := range EffectivePolicyTypes(np) {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.types[Ingress] = true
		case networkingv1.PolicyTypeEgress:
			p.types[Egress] = true
		}
	}
	for i, r := range np.Spec.Ingress {
		pr, err := sc.parseRule(r.From, r.Ports)
		if err != nil {
			return fail(fmt.Sprintf("spec.ingress[%d]", i), err)
		}
		p.rules[Ingress] = append(p.rules[Ingress], pr)
	}
	for i, r := range np.Spec.Egress {
		pr, err := sc.parseRule(r.To, r.Ports)
		if err != nil {
			return fail(fmt.Sprintf("spec.egress[%d]", i), err)
		}
		p.rules[Egress] = append(p.rules[Egress], pr)
	}
	return p, nil
}

func (sc selectorCache) parseRule(peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) (rule, error) {
	var r rule
	for i, pe := range peers {
		var p peer
		var err error
		var desc []string
		if pe.PodSelector != nil {
			if p.pods, err = sc.parse(pe.PodSelector); err != nil {
				return r, fmt.Errorf("peers[%d].podSelector: %w", i, err)
			}
			desc = append(desc, "podSelector "+selectorString(p.pods))
		}
		if pe.NamespaceSelector != nil {
			if p.namespaces, err = sc.parse(pe.NamespaceSelector); err != nil {
				return r, fmt.Errorf("peers[%d].namespaceSelector: %w", i, err)
			}
			desc = append(desc, "namespaceSelector "+selectorString(p.namespaces))
		}
		if pe.IPBlock != nil {
			b := &ipBlock{}
			if b.cidr, err = netip.ParsePrefix(pe.IPBlock.CIDR); err != nil {
				return r, fmt.Errorf("peers[%d].ipBlock.cidr: %w", i, err)
			}
			b.cidr = b.cidr.Masked()
			d := "ipBlock " + b.cidr.String()
			for j, ex := range pe.IPBlock.Except {
				x, err := netip.ParsePrefix(ex)
				if err != nil {
					return r, fmt.Errorf("peers[%d].ipBlock.except[%d]: %w", i, j, err)
				}
				b.except = append(b.except, x.Masked())
				if j == 0 {
					d += " except " + x.Masked().String()
				} else {
					d += "," + x.Masked().String()
				}
			}
			p.block = b
			desc = append(desc, d)
		}
		if len(desc) == 0 {
			desc = append(desc, "empty peer (matches nothing)")
		}
		p.desc = strings.Join(desc, " AND ")
		r.peers = append(r.peers, p)
	}
	for _, po := range ports {
		pr := portRule{proto: corev1.ProtocolTCP}
		if po.Protocol != nil {
			pr.proto = protocolOf(*po.Protocol)
		}
		pr.protoNum = protoNumber(pr.proto)
		switch {
		case po.Port == nil:
			pr.any = true
			pr.desc = "every " + string(pr.proto) + " port"
		case po.Port.Type == intstr.String:
			pr.name, pr.namedPort = po.Port.StrVal, true
			pr.desc = fmt.Sprintf("named port %q/%s", pr.name, pr.proto)
		default:
			pr.from, pr.to = po.Port.IntVal, po.Port.IntVal
			pr.desc = fmt.Sprintf("%d/%s", pr.from, pr.proto)
			if po.EndPort != nil && *po.EndPort > pr.from {
				pr.to = *po.EndPort
				pr.desc = fmt.Sprintf("%d-%d/%s", pr.from, pr.to, pr.proto)
			}
		}
		r.ports = append(r.ports, pr)
	}
	return r, nil
}

// selectorCache holds the selectors New parsed, by their matchLabels:
// policies repeat a few selectors many times, and parsing one validates
// every label with regular expressions. Selectors are not changed once
// parsed, so policies share them.
type selectorCache map[string]labels.Selector

func (sc selectorCache) parse(ls *metav1.LabelSelector) (labels.Selector, error) {
	if ls == nil || len(ls.MatchExpressions) > 0 {
		return metav1.LabelSelectorAsSelector(ls)
	}
	keys := make([]string, 0, len(ls.MatchLabels))
	for k, v := range ls.MatchLabels {
		// Length-prefixed: no two selectors share a key, whatever
		// invalid labels they hold.
		keys = append(keys, strconv.Itoa(len(k))+":"+k+strconv.Itoa(len(v))+":"+v)
	}
	slices.Sort(keys)
	key := strings.Join(keys, "")
	if sel, ok := sc[key]; ok {
		return sel, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err == nil {
		sc[key] = sel
	}
	return sel, err
}

// selectorString prints a parsed selector as kubectl describe does
// (metav1.FormatLabelSelector, without parsing it again), with {} for the
// empty selector (everything).
func selectorString(sel labels.Selector) string {
	if s := sel.String(); s != "" {
		return s
	}
	return "{}"
}

// EffectivePolicyTypes is spec.policyTypes with the API server's default:
// Ingress always, and Egress when the policy has egress rules.
func EffectivePolicyTypes(np *networkingv1.NetworkPolicy) []networkingv1.PolicyType {
	if len(np.Spec.PolicyTypes) > 0 {
		return np.Spec.PolicyTypes
	}
	t := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(np.Spec.Egress) > 0 {
		t = append(t, networkingv1.PolicyTypeEgress)
	}
	return t
}

// selects reports whether the policy isolates the pod in a direction.
func (p *policy) selects(pod *Pod, d Direction) bool {
	return p.types[d] && pod.isolatable() && pod.Namespace == p.namespace && p.selector.Matches(labels.Set(pod.Labels))
}

// matches reports whether a peer matches an endpoint.
func (e *Engine) peerMatches(pe *peer, policyNS string, ep Endpoint) bool {
	if pe.block != nil {
		return pe.block.contains(ep.IP)
	}
	pod := ep.pod()
	if pod == nil || (pe.pods == nil && pe.namespaces == nil) {
		return false // selectors never match the node or other addresses
	}
	if pe.namespaces == nil {
		if pod.Namespace != policyNS {
			return false
		}
	} else if !pe.namespaces.Matches(e.namespaceLabels(pod.Namespace)) {
		return false
	}
	return pe.pods == nil || pe.pods.Matches(labels.Set(pod.Labels))
}

func (b *ipBlock) contains(ip netip.Addr) bool {
	if !ip.IsValid() || !b.cidr.Contains(ip) {
		return false
	}
	for _, x := range b.except {
		if x.Contains(ip) {
			return false
		}
	}
	return true
}

// matches reports whether a ports entry admits a destination port and
// protocol; named ports resolve on the destination pod only.
func (pr *portRule) matches(port int32, proto corev1.Protocol, dst *Pod) bool {
	if pr.proto != protocolOf(proto) {
		return false
	}
	switch {
	case pr.any:
		return true
	case pr.namedPort:
		n, ok := dst.namedPort(pr.name, pr.proto)
		return ok && n == port
	default:
		return port >= pr.from && port <= pr.to
	}
}
