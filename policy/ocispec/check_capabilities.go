package ocispec

import (
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// baselineCapabilities are the capabilities baseline allows: the default
// set of Docker and containerd. It is pod-security-admission's list of
// capabilities a container may add, plus CAP_NET_RAW, which those runtimes
// give by default and which baseline therefore allows a pod to keep.
var baselineCapabilities = set(
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP",
	"CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
)

// restrictedCapabilities are the only capabilities restricted allows (a
// pod must drop ALL and may add back NET_BIND_SERVICE).
var restrictedCapabilities = set("CAP_NET_BIND_SERVICE")

// checkCapabilitiesBaseline: adding capabilities beyond the default set is
// disallowed.
//
// Spec: process.capabilities.{bounding,effective,permitted,inheritable,
// ambient}. Allowed: the default set above. Unset process.capabilities
// keep every capability of the runtime and are refused.
func checkCapabilitiesBaseline(in *input) []Violation {
	return checkCapabilities(in, baselineCapabilities, "non-default capabilities")
}

// checkCapabilitiesRestricted: every capability but NET_BIND_SERVICE must
// be dropped.
//
// Spec: the five capability sets. Allowed: CAP_NET_BIND_SERVICE.
func checkCapabilitiesRestricted(in *input) []Violation {
	return checkCapabilities(in, restrictedCapabilities, "unrestricted capabilities")
}

func checkCapabilities(in *input, allowed map[string]bool, reason string) []Violation {
	if in.proc == nil {
		return nil
	}
	c := in.proc.Capabilities
	if c == nil {
		return []Violation{{Field: in.field + ".capabilities", What: "unset (every capability of the runtime)", Reason: reason}}
	}
	// A set is reported for the capabilities no set before it reported:
	// effective and permitted are within bounding, so a privileged
	// process gets one line, not five.
	var vs []Violation
	reported := map[string]bool{}
	for _, s := range capabilitySets(c) {
		var bad []string
		for _, name := range s.caps {
			if n := normalizeCapability(name); !allowed[n] && !reported[n] {
				bad = append(bad, n)
			}
		}
		if len(bad) == 0 {
			continue
		}
		bad = sortedUnique(bad)
		for _, n := range bad {
			reported[n] = true
		}
		// Every capability is named, however many: the one that matters
		// (CAP_SYS_ADMIN) must not hide in "and N more".
		vs = append(vs, Violation{Field: in.field + ".capabilities." + s.name,
			What: strings.Join(bad, ", "), Plural: len(bad) > 1, Reason: reason})
	}
	return vs
}

type capabilitySet struct {
	name string
	caps []string
}

func capabilitySets(c *specs.LinuxCapabilities) []capabilitySet {
	return []capabilitySet{
		{"bounding", c.Bounding}, {"effective", c.Effective}, {"permitted", c.Permitted},
		{"inheritable", c.Inheritable}, {"ambient", c.Ambient},
	}
}

// normalizeCapability spells a capability as the kernel's headers do:
// "sys_admin" and "CAP_SYS_ADMIN" are one capability.
func normalizeCapability(name string) string {
	n := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	return n
}

func set(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

func sortedUnique(values []string) []string {
	m := set(values...)
	out := make([]string, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
