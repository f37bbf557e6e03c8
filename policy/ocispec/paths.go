package ocispec

import (
	"fmt"
	"path"
	"strings"
)

// DefaultBindSources are the node directories bind mounts may come from
// when the policy does not say: the state and volume directories of the
// container engines that drive a runc-compatible runtime, where they keep
// what they bind into containers (/etc/hosts, /etc/resolv.conf,
// /etc/hostname, /dev/shm, /run/.containerenv, secrets, volumes):
//
//   - containerd (CRI): /var/lib/containerd/io.containerd.grpc.v1.cri/
//     sandboxes/ID/{hosts,hostname,resolv.conf} and
//     /run/containerd/io.containerd.grpc.v1.cri/sandboxes/ID/shm;
//   - kubelet: the pod's volumes, /etc/hosts and termination log under
//     /var/lib/kubelet/pods/UID (hostPath volumes are elsewhere and
//     refused, as baseline refuses hostPath volumes);
//   - podman and CRI-O: /run/containers/storage/overlay-containers/ID/
//     userdata/{hosts,hostname,resolv.conf,.containerenv,shm} (also
//     reached as /var/run/containers/storage), named volumes under
//     /var/lib/containers/storage/volumes, and podman's /run/libpod;
//   - Docker: /var/lib/docker/containers/ID and /var/lib/docker/volumes;
//   - podsec: /var/lib/podsec and /run/podsec.
//
// The bundle directory is always allowed too (containerd's holds the
// rootfs; podman's is the userdata directory of its graph root, while the
// files it binds are in its run root's).
var DefaultBindSources = []string{
	"/var/lib/containerd", "/run/containerd",
	"/var/lib/kubelet/pods",
	"/var/lib/containers/storage", "/run/containers/storage", "/var/run/containers/storage", "/run/libpod",
	"/var/lib/docker/containers", "/var/lib/docker/volumes",
	"/var/lib/podsec", "/run/podsec",
}

// DefaultRootPrefixes are the node directories a root.path may be in when
// the policy does not say, besides the bundle: where the engines mount
// container root filesystems (containerd's and Docker's bundles hold
// "rootfs"; podman and CRI-O use the storage's overlay/ID/merged).
var DefaultRootPrefixes = []string{
	"/run/containerd/io.containerd.runtime.v2.task",
	"/var/lib/containers/storage", "/run/containers/storage", "/var/run/containers/storage",
	"/var/lib/docker/overlay2",
	"/var/lib/podsec", "/run/podsec",
}

// cleanPrefixes checks a policy's list of directories: absolute paths,
// returned cleaned. Nil stays nil (the defaults apply).
func cleanPrefixes(field string, prefixes []string) ([]string, error) {
	if prefixes == nil {
		return nil, nil
	}
	out := make([]string, 0, len(prefixes))
	for i, p := range prefixes {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("%s[%d]: Invalid value: %q: must be an absolute path", field, i, p)
		}
		out = append(out, path.Clean(p))
	}
	return out, nil
}

// under reports whether p is dir or below it, comparing whole path
// components (/var/lib/containerd-evil is not below /var/lib/containerd).
// Both are absolute and clean.
func under(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

// nodePath is a node path a spec names (a root.path, a bind source).
type nodePath struct {
	// clean is the path made absolute (relative to the bundle) and
	// cleaned lexically; inBundle is set when it is relative and the
	// bundle is not known.
	clean    string
	inBundle bool
	// real is the path as written resolved by Options.RealPath, or clean
	// when there is no RealPath. unresolved is set when RealPath failed:
	// the kernel may still reach something through it, so it is allowed
	// nowhere.
	real       string
	unresolved bool
}

// nodePath resolves p as the runtime will use it. A relative path is
// joined to the bundle, which cleans it as libcontainer's specconv does;
// an absolute one reaches the kernel as written, so it is resolved as
// written: in "dir/link/.." the ".." leaves the link's target, not dir,
// and cleaning it first would judge dir.
func (in *input) nodePath(p string) nodePath {
	if !path.IsAbs(p) {
		if in.opts.BundleDir == "" {
			return nodePath{clean: path.Clean(p), real: path.Clean(p), inBundle: true}
		}
		p = path.Join(in.opts.BundleDir, p)
	}
	np := nodePath{clean: path.Clean(p), real: path.Clean(p)}
	if in.opts.RealPath != nil {
		r, err := in.opts.RealPath(p)
		if err == nil && path.IsAbs(r) {
			np.real = path.Clean(r)
		} else {
			np.unresolved = true
		}
	}
	return np
}

// realPath is p with its symlinks resolved, or p.
func (in *input) realPath(p string) string {
	if in.opts.RealPath != nil {
		if r, err := in.opts.RealPath(p); err == nil && path.IsAbs(r) {
			return path.Clean(r)
		}
	}
	return p
}

// allowed reports whether np is in the bundle or below one of dirs. The
// resolved path is what the kernel will mount, so it is what counts; a
// directory is compared as written and resolved. A bundle at / grants
// nothing: it would allow every node path, and a path that could not be
// resolved is allowed nowhere.
func (in *input) allowed(np nodePath, dirs []string) bool {
	if np.inBundle {
		return true
	}
	if np.unresolved {
		return false
	}
	if b := in.opts.BundleDir; b != "" {
		for _, d := range []string{path.Clean(b), in.realPath(path.Clean(b))} {
			if d != "/" && under(np.real, d) {
				return true
			}
		}
	}
	for _, d := range dirs {
		if under(np.real, d) || under(np.real, in.realPath(d)) {
			return true
		}
	}
	return false
}

// describe says a node path for a message: as written, and what it
// resolves to when that differs.
func (np nodePath) describe(given string) string {
	switch {
	case np.unresolved:
		return fmt.Sprintf("%q (cannot be resolved)", given)
	case np.real != np.clean:
		return fmt.Sprintf("%q (resolves to %q)", given, np.real)
	}
	return fmt.Sprintf("%q", given)
}

// bindSources are the policy's allowed bind sources or the defaults.
func (p *Policy) bindSources() []string {
	if p == nil || p.AllowedBindSources == nil {
		return DefaultBindSources
	}
	return p.AllowedBindSources
}

// rootPrefixes are the policy's allowed root prefixes or the defaults.
func (p *Policy) rootPrefixes() []string {
	if p == nil || p.AllowedRootPrefixes == nil {
		return DefaultRootPrefixes
	}
	return p.AllowedRootPrefixes
}
