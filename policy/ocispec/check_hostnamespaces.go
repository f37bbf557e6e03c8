package ocispec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// namespaceTypes are every namespace type a spec can name, in the order
// violations are reported.
var namespaceTypes = []specs.LinuxNamespaceType{
	specs.NetworkNamespace, specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace,
	specs.MountNamespace, specs.CgroupNamespace, specs.TimeNamespace, specs.UserNamespace,
}

// checkHostNamespaces: sharing the host's namespaces is disallowed
// (hostNetwork, hostPID, hostIPC; a pod has no way to share the others).
//
// Spec: linux.namespaces. For every type (network, pid, ipc, uts, mount,
// cgroup, time, user), a path that is the node's namespace
// (Options.HostNamespace) is refused. A missing entry is the runtime's,
// that is the host's, namespace: refused for network, pid and ipc (the
// types Pod Security Standards have a rule for) and for mount (runc needs
// one anyway). A mount namespace joined by path is refused whatever it
// is: it holds another root filesystem and its mounts.
func checkHostNamespaces(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	var vs []Violation
	for _, typ := range namespaceTypes {
		i, ns := findNamespace(in.linux().Namespaces, typ)
		switch {
		case ns == nil:
			if typ == specs.NetworkNamespace || typ == specs.PIDNamespace || typ == specs.IPCNamespace || typ == specs.MountNamespace {
				vs = append(vs, Violation{Field: "linux.namespaces",
					What: fmt.Sprintf("no %s namespace (the host's)", typ), Reason: "host namespaces"})
			}
		case ns.Path != "" && in.opts.HostNamespace != nil && in.opts.HostNamespace(typ, ns.Path):
			vs = append(vs, Violation{Field: fmt.Sprintf("linux.namespaces[%d].path", i),
				What: fmt.Sprintf("%q (the host's %s namespace)", ns.Path, typ), Reason: "host namespaces"})
		case ns.Path != "" && typ == specs.MountNamespace:
			vs = append(vs, Violation{Field: fmt.Sprintf("linux.namespaces[%d].path", i),
				What: fmt.Sprintf("%q (an existing mount namespace)", ns.Path), Reason: "host namespaces"})
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
