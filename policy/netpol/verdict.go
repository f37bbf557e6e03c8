package netpol

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Direction is the direction of traffic a policy isolates, seen from the
// selected pod.
type Direction int

// The two directions; they index arrays.
const (
	Ingress Direction = iota
	Egress
)

func (d Direction) String() string {
	if d == Egress {
		return "Egress"
	}
	return "Ingress"
}

// Verdict is the engine's answer for one connection, with what decided it.
type Verdict struct {
	// Allowed is Egress.Allowed && Ingress.Allowed.
	Allowed bool
	// Egress is the source's side, Ingress the destination's.
	Egress, Ingress Side
	// Loopback marks a pod connecting to itself: the traffic never leaves
	// the pod, and no policy applies to it.
	Loopback bool
}

// Side is one direction's part of a verdict.
type Side struct {
	Direction Direction
	// Subject is the endpoint whose policies decide: the source for Egress,
	// the destination for Ingress.
	Subject Endpoint
	// Policies are the policies selecting the subject for this direction
	// (namespace/name, sorted); none means the subject is not isolated.
	Policies []string
	// Allowed reports whether the connection passes this side.
	Allowed bool
	// Rule is the first rule, in policy order, that allows the connection;
	// nil when the subject is not isolated or no rule allows it.
	Rule *RuleRef
	// Reason says why, in a sentence.
	Reason string
}

// RuleRef names a rule and the peer and port entries that matched.
type RuleRef struct {
	Policy    string // namespace/name
	Direction Direction
	Index     int    // in spec.ingress or spec.egress
	Peer      string // the matching peer, or "every address"
	Port      string // the matching ports entry, or "every port"
}

func (r *RuleRef) String() string {
	dir, verb := "ingress", "from"
	if r.Direction == Egress {
		dir, verb = "egress", "to"
	}
	return fmt.Sprintf("%s %s[%d] (%s %s, port %s)", r.Policy, dir, r.Index, verb, r.Peer, r.Port)
}

// Allowed decides one connection from src to dst on a destination port
// and protocol. A connection needs the source's egress and the
// destination's ingress to allow it; a pod no policy selects for a
// direction is open in that direction; the rules of all policies
// selecting a pod add up.
func (e *Engine) Allowed(src, dst Endpoint, port int32, proto corev1.Protocol) Verdict {
	proto = protocolOf(proto)
	v := Verdict{
		Egress:  e.side(Egress, src, dst, port, proto),
		Ingress: e.side(Ingress, src, dst, port, proto),
	}
	if src.Pod != nil && src.Pod == dst.Pod {
		v.Loopback = true
		v.Allowed = true
		return v
	}
	v.Allowed = v.Egress.Allowed && v.Ingress.Allowed
	return v
}

func (e *Engine) side(d Direction, src, dst Endpoint, port int32, proto corev1.Protocol) Side {
	subject, other := dst, src
	if d == Egress {
		subject, other = src, dst
	}
	s := Side{Direction: d, Subject: subject}
	pod := subject.pod()
	switch {
	case pod == nil:
		s.Allowed = true
		s.Reason = fmt.Sprintf("%s is not a pod that policies isolate", subject)
		return s
	case d == Ingress && src.Node:
		s.Allowed = true
		s.Reason = "traffic from the node to its pods is always allowed"
		return s
	}
	var sel []*policy
	for _, p := range e.policies {
		if p.selects(pod, d) {
			sel = append(sel, p)
			s.Policies = append(s.Policies, p.key)
		}
	}
	if len(sel) == 0 {
		s.Allowed = true
		s.Reason = fmt.Sprintf("no policy selects %s for %s: not isolated", pod.Key(), d)
		return s
	}
	for _, p := range sel {
		for i := range p.rules[d] {
			if ref := e.ruleAllows(p, d, i, other, port, proto, dst.pod()); ref != nil {
				s.Allowed, s.Rule = true, ref
				s.Reason = "allowed by " + ref.String()
				return s
			}
		}
	}
	s.Reason = fmt.Sprintf("%s is isolated for %s by %s and no rule allows %s on %d/%s",
		pod.Key(), d, strings.Join(s.Policies, ", "), other, port, proto)
	return s
}

// ruleAllows returns the rule's reference if it admits the peer on the
// port; named ports resolve on dstPod.
func (e *Engine) ruleAllows(p *policy, d Direction, i int, other Endpoint, port int32, proto corev1.Protocol, dstPod *Pod) *RuleRef {
	r := &p.rules[d][i]
	ref := &RuleRef{Policy: p.key, Direction: d, Index: i, Peer: "every address", Port: "every port"}
	if len(r.peers) > 0 {
		ref.Peer = ""
		for j := range r.peers {
			if e.peerMatches(&r.peers[j], p.namespace, other) {
				ref.Peer = r.peers[j].desc
				break
			}
		}
		if ref.Peer == "" {
			return nil
		}
	}
	if len(r.ports) > 0 {
		ref.Port = ""
		for j := range r.ports {
			if r.ports[j].matches(port, proto, dstPod) {
				ref.Port = r.ports[j].desc
				break
			}
		}
		if ref.Port == "" {
			return nil
		}
	}
	return ref
}

// Explain is the verdict in the words `podsec netpol explain` prints.
func (v Verdict) Explain() string {
	var b strings.Builder
	if v.Loopback {
		b.WriteString("ALLOWED: a pod's traffic to itself stays in the pod; no policy applies\n")
		return b.String()
	}
	word := "DENIED"
	if v.Allowed {
		word = "ALLOWED"
	}
	fmt.Fprintf(&b, "%s\n", word)
	for _, s := range []Side{v.Egress, v.Ingress} {
		pol := "none"
		if len(s.Policies) > 0 {
			pol = strings.Join(s.Policies, ", ")
		}
		res := "denies"
		if s.Allowed {
			res = "allows"
		}
		fmt.Fprintf(&b, "  %s of %s: %s\n    policies: %s\n    %s\n", s.Direction, s.Subject, res, pol, s.Reason)
	}
	return b.String()
}
