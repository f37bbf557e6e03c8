package runtime

import (
	"regexp"
	"strings"

	"github.com/podsec/podsec/pipeline"
)

// sysctlWriteError matches libcontainer's error for a sysctl the kernel
// refused to take (it comes from the init as text): its name and value.
var sysctlWriteError = regexp.MustCompile(`failed to write sysctl (\S+) = "((?:[^"\\]|\\.)*)": (.*)$`)

// startError names the pod's field behind err, a container's failed
// start, when it is one: a sysctl whose value the kernel refused is
// spec.securityContext.sysctls[i].value, as the plan names it.
// Otherwise it returns nil.
func startError(plan *pipeline.Plan, err error) error {
	m := sysctlWriteError.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	reason := m[3]
	if j := strings.LastIndex(reason, ": "); j >= 0 {
		reason = reason[j+2:] // the errno, without the file libcontainer wrote
	}
	return plan.SysctlRefused(m[1], reason)
}
