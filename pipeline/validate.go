package pipeline

import (
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podsec/podsec/spec"
)

// ErrNodeRefused: the pod is valid and admitted, but this node cannot run
// it as asked (a volume type it cannot mount, an LSM it lacks, a sysctl
// outside its allowlist). The kubelet's own refusals are of this kind.
var ErrNodeRefused = errors.New("pod refused by this node")

// Validate checks pods by the API server's rules alone and returns one
// error (spec.ErrInvalidPod) listing every problem of every pod, as the
// API server words them.
func Validate(pods ...*corev1.Pod) error {
	var msgs []string
	for _, p := range pods {
		if errs := spec.ValidatePod(p, spec.ValidateOptions{Scope: spec.ScopeAPIServer}); len(errs) > 0 {
			msgs = append(msgs, message(p, "is invalid", errs))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%w: %s", spec.ErrInvalidPod, strings.Join(msgs, "\n"))
	}
	return nil
}

// CheckNode applies this node's rules to pods the API server's accept:
// spec.ScopeNode (volume types, LSMs, Windows, namespaced sysctls), then
// the kubelet's sysctl allowlist. Its error is ErrNodeRefused.
func CheckNode(node *Node, pods ...*corev1.Pod) error {
	var msgs []string
	for _, p := range pods {
		errs := spec.ValidatePod(p, spec.ValidateOptions{Scope: spec.ScopeNode,
			SELinuxEnabled: node.SELinuxEnabled, AppArmorEnabled: node.AppArmorEnabled})
		if len(errs) == 0 && node.Sysctls != nil {
			errs = node.Sysctls.ValidatePod(p)
		}
		if len(errs) > 0 {
			msgs = append(msgs, message(p, "cannot run on this node", errs))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%w: %s", ErrNodeRefused, strings.Join(msgs, "\n"))
	}
	return nil
}

// ValidateOnNode is Validate, then CheckNode for pods Validate accepts:
// what podsec validate, run and spec apply to a pod that would run here.
func ValidateOnNode(node *Node, pods ...*corev1.Pod) error {
	if err := Validate(pods...); err != nil {
		return err
	}
	return CheckNode(node, pods...)
}

// message is the API server's wording for an object's errors.
func message(p *corev1.Pod, what string, errs field.ErrorList) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The Pod %q %s:", p.Name, what)
	for _, e := range errs {
		fmt.Fprintf(&b, "\n* %s", e.Error())
	}
	return b.String()
}
