package ocispec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkHooks: hooks are programs the runtime runs as itself, on the node
// (prestart, createRuntime and poststop in the runtime's namespaces, the
// others with the runtime's privileges); a pod has no equivalent, so they
// are allowed only at privileged.
//
// Spec: hooks.{prestart,createRuntime,createContainer,startContainer,
// poststart,poststop}. Allowed: none.
func checkHooks(in *input) []Violation {
	if in.spec == nil || in.spec.Hooks == nil {
		return nil
	}
	h := in.spec.Hooks
	var vs []Violation
	for _, kind := range []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, //nolint:staticcheck // deprecated, but runtimes still run it
		{"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	} {
		for i, hook := range kind.hooks {
			vs = append(vs, Violation{Field: fmt.Sprintf("hooks.%s[%d]", kind.name, i),
				What: fmt.Sprintf("%q", hook.Path), Reason: "hooks run on the node"})
		}
	}
	return vs
}
