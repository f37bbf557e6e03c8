package psp

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podsec/podsec/spec"
)

// capabilitiesRule is the capabilities strategy.
//
// Policy: spec.defaultAddCapabilities, spec.requiredDropCapabilities and
// spec.allowedCapabilities ("*" allows any).
// Pod: securityContext.capabilities.add and .drop of every container.
//
// Defaulting adds to add the default capabilities the container neither
// adds nor drops, and to drop the required drops it does not drop yet; when
// it changes anything both lists come out sorted, as in Kubernetes. Every
// added capability must then be a default or an allowed one, and every
// required drop must be dropped. Unlike Kubernetes, which compared the
// strings, podsec compares capability names in any spelling ("chown",
// "CHOWN" and "CAP_CHOWN" are one capability); "ALL" in drop does not stand
// for a required drop, as in Kubernetes.
var capabilitiesRule = rule{
	name:              "capabilities",
	defaultContainer:  defaultCapabilities,
	validateContainer: validateCapabilities,
}

// capKey is the name capabilities are compared by.
func capKey(c corev1.Capability) string {
	n, _ := spec.NormalizeCapability(string(c))
	return n
}

func hasCap(list []corev1.Capability, c corev1.Capability) bool {
	for _, l := range list {
		if sameCap(l, c) {
			return true
		}
	}
	return false
}

// sameCap is capKey(a) == capKey(b), without making the keys when both
// names are ASCII (admission compares every container's capabilities
// with every policy's).
func sameCap(a, b corev1.Capability) bool {
	ra, alla, okA := capRest(string(a))
	rb, allb, okB := capRest(string(b))
	if !okA || !okB {
		return capKey(a) == capKey(b)
	}
	return alla == allb && strings.EqualFold(ra, rb)
}

// capRest is an ASCII name's key without its CAP_ prefix, and whether the
// key is ALL; ok is false for other names.
func capRest(name string) (rest string, all, ok bool) {
	n := strings.TrimSpace(name)
	for i := range len(n) {
		if n[i] >= utf8.RuneSelf {
			return "", false, false
		}
	}
	if strings.EqualFold(n, "ALL") {
		return "", true, true
	}
	if len(n) >= 4 && strings.EqualFold(n[:4], "CAP_") {
		n = n[4:]
	}
	return n, false, true
}

func defaultCapabilities(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container) {
	var add, drop []corev1.Capability
	if caps := containerSC(c).Capabilities; caps != nil {
		add, drop = caps.Add, caps.Drop
	}
	var moreAdd, moreDrop []corev1.Capability
	for _, d := range p.Spec.DefaultAddCapabilities {
		if !hasCap(drop, d) && !hasCap(add, d) && !hasCap(moreAdd, d) {
			moreAdd = append(moreAdd, d)
		}
	}
	for _, d := range p.Spec.RequiredDropCapabilities {
		if !hasCap(drop, d) && !hasCap(moreDrop, d) {
			moreDrop = append(moreDrop, d)
		}
	}
	if len(moreAdd) == 0 && len(moreDrop) == 0 {
		return
	}
	ensureContainerSC(c).Capabilities = &corev1.Capabilities{
		Add:  sortedCaps(append(append([]corev1.Capability{}, add...), moreAdd...)),
		Drop: sortedCaps(append(append([]corev1.Capability{}, drop...), moreDrop...)),
	}
}

// sortedCaps sorts the names and drops repeats of a capability, keeping the
// first spelling; nil for none, as Kubernetes left an empty list unset.
func sortedCaps(in []corev1.Capability) []corev1.Capability {
	var out []corev1.Capability
	for _, c := range in {
		if !hasCap(out, c) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func validateCapabilities(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	// The path is made only for an error.
	capsPath := func() *field.Path { return path.Child("securityContext", "capabilities") }
	caps := containerSC(c).Capabilities
	if caps == nil {
		if len(p.Spec.DefaultAddCapabilities) == 0 && len(p.Spec.RequiredDropCapabilities) == 0 {
			return nil
		}
		return field.ErrorList{field.Invalid(capsPath(), caps, "required capabilities are not set on the securityContext")}
	}
	for _, a := range p.Spec.AllowedCapabilities {
		if a == AllowAllCapabilities {
			return nil
		}
	}
	var allErrs field.ErrorList
	for _, a := range caps.Add {
		if !hasCap(p.Spec.DefaultAddCapabilities, a) && !hasCap(p.Spec.AllowedCapabilities, a) {
			allErrs = append(allErrs, field.Invalid(capsPath().Child("add"), string(a), "capability may not be added"))
		}
	}
	for _, d := range p.Spec.RequiredDropCapabilities {
		if !hasCap(caps.Drop, d) {
			allErrs = append(allErrs, field.Invalid(capsPath().Child("drop"), caps.Drop, fmt.Sprintf("%s is required to be dropped but was not found", d)))
		}
	}
	return allErrs
}
