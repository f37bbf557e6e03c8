package psp

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// hostPortsRule restricts the host ports containers bind.
//
// Policy: spec.hostPorts, inclusive min-max ranges; none allows no host
// port.
// Pod: ports[].hostPort of every container (0, no host port, is always
// allowed). As in 1.24 the error path is the container's hostPort, without
// the index of the port.
var hostPortsRule = rule{
	name:              "hostports",
	validateContainer: validateHostPorts,
}

func validateHostPorts(p *PodSecurityPolicy, _ *corev1.Pod, c *corev1.Container, path *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, cp := range c.Ports {
		if cp.HostPort > 0 && !hostPortAllowed(p.Spec.HostPorts, cp.HostPort) {
			detail := fmt.Sprintf("Host port %d is not allowed to be used. Allowed ports: [%s]", cp.HostPort, hostPortRanges(p.Spec.HostPorts))
			allErrs = append(allErrs, field.Invalid(path.Child("hostPort"), cp.HostPort, detail))
		}
	}
	return allErrs
}

func hostPortAllowed(ranges []HostPortRange, port int32) bool {
	for _, r := range ranges {
		if port >= r.Min && port <= r.Max {
			return true
		}
	}
	return false
}

// hostPortRanges prints ranges as "80,10000-11000".
func hostPortRanges(ranges []HostPortRange) string {
	s := make([]string, 0, len(ranges))
	for _, r := range ranges {
		if r.Min == r.Max {
			s = append(s, fmt.Sprint(r.Min))
		} else {
			s = append(s, fmt.Sprintf("%d-%d", r.Min, r.Max))
		}
	}
	return strings.Join(s, ",")
}
