package oci

import (
	"errors"
	"fmt"
	"os"

	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/policy/ocispec"
)

// DefaultPolicyPath is the node policy read when --policy is not given. A
// node without the file has no policy (privileged), as a cluster without
// PodSecurity labels.
const DefaultPolicyPath = "/etc/podsec/runtime-policy.yaml"

// NodePolicy is the policy in force and where it came from.
type NodePolicy struct {
	ocispec.Policy
	// Path is the file it was read from; empty without one.
	Path string
}

// NoPolicy is the --policy value that runs without a node policy, even
// where the default file exists (a file named "none" is ./none).
const NoPolicy = "none"

// LoadPolicy reads the policy file at path, else (path empty) the default
// file if it exists; path "none" is no policy. A policy file that cannot be
// read or parsed is an error: a node policy is never silently dropped.
func LoadPolicy(path string) (*NodePolicy, error) {
	if path == NoPolicy {
		return &NodePolicy{Policy: ocispec.Policy{Level: ocispec.Privileged}}, nil
	}
	if path == "" {
		if _, err := os.Stat(DefaultPolicyPath); errors.Is(err, os.ErrNotExist) {
			return &NodePolicy{Policy: ocispec.Policy{Level: ocispec.Privileged}}, nil
		}
		path = DefaultPolicyPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the node policy: %w", err)
	}
	p, err := ocispec.ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("node policy %s: %w", path, err)
	}
	return &NodePolicy{Policy: p, Path: path}, nil
}

// CheckSpec holds a spec to the policy with this host's facts. bundle is
// the bundle directory: a relative root.path or bind source is relative to
// it.
func (p *NodePolicy) CheckSpec(s *specs.Spec, bundle string) error {
	opts := hostOptions()
	if bundle != "" {
		// The bundle is resolved as the kernel will resolve the paths
		// joined to it: a bundle named through a magic link would grant
		// a node directory its name's text does not say.
		b, err := resolvePath(bundle)
		if err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		opts.BundleDir = b
	}
	return p.wrap(p.Check(s, opts))
}

// checkJoinedUserNamespace holds the mappings of the user namespace s
// joins by path, as specconv read them into cfg, to the policy: the spec
// need not state them, and when it does they must match.
func (p *NodePolicy) checkJoinedUserNamespace(s *specs.Spec, cfg *configs.Config) error {
	path := cfg.Namespaces.PathOf(configs.NEWUSER)
	if path == "" || s.Linux == nil {
		return nil
	}
	i := findUserNamespace(s.Linux.Namespaces)
	return p.wrap(p.CheckJoinedUserNamespace(i, path, specMappings(cfg.UIDMappings), specMappings(cfg.GIDMappings)))
}

// findUserNamespace is the index of the user namespace in nss, or -1.
func findUserNamespace(nss []specs.LinuxNamespace) int {
	for i, ns := range nss {
		if ns.Type == specs.UserNamespace {
			return i
		}
	}
	return -1
}

// specMappings are libcontainer's ID mappings in the runtime spec's form.
func specMappings(ms []configs.IDMap) []specs.LinuxIDMapping {
	out := make([]specs.LinuxIDMapping, len(ms))
	for i, m := range ms {
		out[i] = specs.LinuxIDMapping{ContainerID: uint32(m.ContainerID), HostID: uint32(m.HostID), Size: uint32(m.Size)}
	}
	return out
}

// CheckExec holds an exec'd process to the policy.
func (p *NodePolicy) CheckExec(proc *specs.Process) error {
	return p.wrap(p.CheckProcess(proc, hostOptions()))
}

func (p *NodePolicy) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w (node policy in %s)", err, p.Path)
}
