package ocispec

import specs "github.com/opencontainers/runtime-spec/specs-go"

// checkPersonality: an execution domain is the process's own, but the
// spec allows only Linux's (a pod has no field for it), so anything else
// is refused rather than guessed at.
//
// Spec: linux.personality. Allowed: domain LINUX or LINUX32, no flags.
func checkPersonality(in *input) []Violation {
	if in.spec == nil || in.linux().Personality == nil {
		return nil
	}
	p := in.linux().Personality
	var vs []Violation
	if p.Domain != specs.PerLinux && p.Domain != specs.PerLinux32 {
		vs = append(vs, Violation{Field: "linux.personality.domain", What: string(p.Domain), Reason: "personality other than LINUX, LINUX32"})
	}
	if len(p.Flags) > 0 {
		flags := make([]string, len(p.Flags))
		for i, f := range p.Flags {
			flags[i] = string(f)
		}
		vs = append(vs, violation("linux.personality.flags", flags, "personality other than LINUX, LINUX32"))
	}
	return vs
}
