package spec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaskedPaths are hidden from a container that is not privileged and does
// not ask for procMount: Unmasked (the kubelet's and containerd's list).
var MaskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
	"/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
}

// ReadonlyPaths are made read-only in such a container.
var ReadonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// withSecurity applies privileged, readOnlyRootFilesystem,
// allowPrivilegeEscalation, procMount, seccompProfile and sysctls.
func withSecurity(c *Container, s *specs.Spec) error {
	sc := c.sc()
	s.Root.Readonly = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
	// Unset leaves no_new_privs off, as in Kubernetes.
	s.Process.NoNewPrivileges = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	unmasked := sc.ProcMount != nil && *sc.ProcMount == corev1.UnmaskedProcMount
	if !c.Privileged() && !unmasked {
		s.Linux.MaskedPaths = append([]string{}, MaskedPaths...)
		s.Linux.ReadonlyPaths = append([]string{}, ReadonlyPaths...)
	}
	if c.Privileged() {
		s.Linux.Devices = append([]specs.LinuxDevice{}, c.Paths.HostDevices...)
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	if sysctls := c.psc().Sysctls; len(sysctls) > 0 {
		s.Linux.Sysctl = map[string]string{}
		for _, kv := range sysctls {
			s.Linux.Sysctl[kv.Name] = kv.Value
		}
	}
	return withSeccomp(c, s)
}

// SeccompProfile is the container's effective profile: the container's,
// else the pod's, else the node's default.
func (c *Container) SeccompProfile() (corev1.SeccompProfile, *field.Path) {
	if p := c.sc().SeccompProfile; p != nil {
		return *p, c.Path.Child("securityContext", "seccompProfile")
	}
	if p := c.psc().SeccompProfile; p != nil {
		return *p, field.NewPath("spec", "securityContext", "seccompProfile")
	}
	def := c.Options.SeccompDefault
	if def == "" {
		def = corev1.SeccompProfileTypeRuntimeDefault
	}
	return corev1.SeccompProfile{Type: def}, nil
}

// withSeccomp installs the effective seccomp profile. A privileged
// container gets none, as with containerd and CRI-O.
func withSeccomp(c *Container, s *specs.Spec) error {
	if c.Privileged() {
		return nil
	}
	prof, p := c.SeccompProfile()
	caps := s.Process.Capabilities.Bounding
	switch prof.Type {
	case corev1.SeccompProfileTypeUnconfined:
		return nil
	case corev1.SeccompProfileTypeRuntimeDefault:
		if c.Options.Seccomp == nil {
			return fmt.Errorf("translating %s: no seccomp profiles given to the translation", c.Path)
		}
		s.Linux.Seccomp = c.Options.Seccomp.RuntimeDefault(caps)
		return nil
	case corev1.SeccompProfileTypeLocalhost:
		if prof.LocalhostProfile == nil || c.Options.Seccomp == nil {
			return field.Required(p.Child("localhostProfile"), "a Localhost profile and a profile root are needed")
		}
		sec, err := c.Options.Seccomp.Localhost(*prof.LocalhostProfile, caps)
		if err != nil {
			return field.Invalid(p.Child("localhostProfile"), *prof.LocalhostProfile, err.Error())
		}
		s.Linux.Seccomp = sec
		return nil
	}
	if p == nil {
		p = field.NewPath("options", "seccompDefault")
	}
	return field.NotSupported(p.Child("type"), prof.Type, []string{
		string(corev1.SeccompProfileTypeRuntimeDefault), string(corev1.SeccompProfileTypeLocalhost), string(corev1.SeccompProfileTypeUnconfined)})
}
