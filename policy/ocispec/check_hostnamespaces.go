package ocispec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkHostNamespaces: sharing the host's network, PID or IPC namespace is
// disallowed (hostNetwork, hostPID, hostIPC).
//
// Spec: linux.namespaces. Allowed: an entry of type network, pid and ipc,
// each either new (no path) or joined by a path that is not the runtime's
// own namespace (Options.HostNamespace), as a pod sandbox's are. A missing
// entry shares the host's.
func checkHostNamespaces(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	var vs []Violation
	for _, typ := range []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.PIDNamespace, specs.IPCNamespace} {
		i, ns := findNamespace(in.linux().Namespaces, typ)
		switch {
		case ns == nil:
			vs = append(vs, Violation{Field: "linux.namespaces",
				What: fmt.Sprintf("no %s namespace (the host's)", typ), Reason: "host namespaces"})
		case ns.Path != "" && in.opts.HostNamespace != nil && in.opts.HostNamespace(typ, ns.Path):
			vs = append(vs, Violation{Field: fmt.Sprintf("linux.namespaces[%d].path", i),
				What: fmt.Sprintf("%q (the host's %s namespace)", ns.Path, typ), Reason: "host namespaces"})
		}
	}
	return vs
}

func findNamespace(nss []specs.LinuxNamespace, typ specs.LinuxNamespaceType) (int, *specs.LinuxNamespace) {
	for i := range nss {
		if nss[i].Type == typ {
			return i, &nss[i]
		}
	}
	return -1, nil
}
