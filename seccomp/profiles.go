package seccomp

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Profiles gives the node's seccomp profiles to the translation: the
// RuntimeDefault profile, and Localhost profiles below Root (kubelet's
// --seccomp-profile-root, by default /var/lib/kubelet/seccomp).
type Profiles struct {
	Root string
}

// RuntimeDefault returns podsec's RuntimeDefault profile for a container
// with the capabilities caps.
func (p Profiles) RuntimeDefault(caps []string) *specs.LinuxSeccomp {
	return RuntimeDefault(caps)
}

// Localhost loads the profile named by a pod's localhostProfile.
func (p Profiles) Localhost(name string, caps []string) (*specs.LinuxSeccomp, error) {
	return Localhost(p.Root, name, caps)
}
