package spec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// withCapabilities sets the five capability sets. Bounding, permitted and
// effective get the container's set; inheritable and ambient stay empty,
// as containerd and CRI-O leave them (CVE-2022-24769). For a process that
// does not run as uid 0 the kernel then clears permitted and effective at
// execve: an added capability reaches such a process only through file
// capabilities of the binary it runs (see the README).
func withCapabilities(c *Container, s *specs.Spec) error {
	caps := c.Capabilities()
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:    caps,
		Effective:   append([]string{}, caps...),
		Permitted:   append([]string{}, caps...),
		Inheritable: []string{},
		Ambient:     []string{},
	}
	return nil
}

// Capabilities returns the container's capability set, sorted: every
// capability when privileged, otherwise the default set with add and drop
// applied in containerd's order: add ALL, drop ALL, then each added name,
// then each dropped name (so "drop: [ALL], add: [NET_ADMIN]" keeps
// CAP_NET_ADMIN, and a name both added and dropped is dropped).
func (c *Container) Capabilities() []string {
	all := c.Options.AllCapabilities
	if all == nil {
		all = allCapabilities
	}
	if c.Privileged() {
		return sortedUnique(all)
	}
	set := map[string]bool{}
	for _, n := range DefaultCapabilities {
		set[n] = true
	}
	if sc := c.sc(); sc.Capabilities != nil {
		add := normalizeAll(sc.Capabilities.Add)
		drop := normalizeAll(sc.Capabilities.Drop)
		if hasString(add, "ALL") {
			for _, n := range all {
				set[n] = true
			}
		}
		if hasString(drop, "ALL") {
			set = map[string]bool{}
		}
		for _, n := range add {
			if n != "ALL" {
				set[n] = true
			}
		}
		for _, n := range drop {
			delete(set, n)
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	return sortedUnique(out)
}

func normalizeAll[T ~string](names []T) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		norm, _ := NormalizeCapability(string(n))
		out = append(out, norm)
	}
	return out
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
