package ocispec

// checkRootPath: a container's root filesystem is its image, which the
// engine mounts in the bundle or in its storage; a root.path elsewhere
// (the node's / above all) makes the node the container's filesystem.
//
// Spec: root.path, made absolute against the bundle, cleaned and resolved
// by Options.RealPath (the runtime's side must resolve it). Allowed: below
// the bundle or a directory of Policy.AllowedRootPrefixes (default
// DefaultRootPrefixes); never the node's /.
func checkRootPath(in *input) []Violation {
	if in.spec == nil || in.spec.Root == nil {
		return nil
	}
	np := in.nodePath(in.spec.Root.Path)
	if np.real != "/" && np.clean != "/" && in.allowed(np, in.pol.rootPrefixes()) {
		return nil
	}
	return []Violation{{Field: "root.path", What: np.describe(in.spec.Root.Path),
		Reason: "root filesystems outside the bundle and allowedRootPrefixes"}}
}
