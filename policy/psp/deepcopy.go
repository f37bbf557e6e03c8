package psp

// DeepCopy returns a copy of the policy that shares no memory with it.
func (p *PodSecurityPolicy) DeepCopy() *PodSecurityPolicy {
	if p == nil {
		return nil
	}
	out := &PodSecurityPolicy{TypeMeta: p.TypeMeta}
	p.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	p.Spec.DeepCopyInto(&out.Spec)
	return out
}

// DeepCopyInto copies the spec into out, sharing no memory.
func (s *PodSecurityPolicySpec) DeepCopyInto(out *PodSecurityPolicySpec) {
	*out = *s
	out.DefaultAddCapabilities = cloneSlice(s.DefaultAddCapabilities)
	out.RequiredDropCapabilities = cloneSlice(s.RequiredDropCapabilities)
	out.AllowedCapabilities = cloneSlice(s.AllowedCapabilities)
	out.Volumes = cloneSlice(s.Volumes)
	out.HostPorts = cloneSlice(s.HostPorts)
	if s.SELinux.SELinuxOptions != nil {
		out.SELinux.SELinuxOptions = s.SELinux.SELinuxOptions.DeepCopy()
	}
	out.RunAsUser.Ranges = cloneSlice(s.RunAsUser.Ranges)
	if s.RunAsGroup != nil {
		out.RunAsGroup = &RunAsGroupStrategyOptions{Rule: s.RunAsGroup.Rule, Ranges: cloneSlice(s.RunAsGroup.Ranges)}
	}
	out.SupplementalGroups.Ranges = cloneSlice(s.SupplementalGroups.Ranges)
	out.FSGroup.Ranges = cloneSlice(s.FSGroup.Ranges)
	out.DefaultAllowPrivilegeEscalation = clonePtr(s.DefaultAllowPrivilegeEscalation)
	out.AllowPrivilegeEscalation = clonePtr(s.AllowPrivilegeEscalation)
	out.AllowedHostPaths = cloneSlice(s.AllowedHostPaths)
	out.AllowedFlexVolumes = cloneSlice(s.AllowedFlexVolumes)
	out.AllowedCSIDrivers = cloneSlice(s.AllowedCSIDrivers)
	out.AllowedUnsafeSysctls = cloneSlice(s.AllowedUnsafeSysctls)
	out.ForbiddenSysctls = cloneSlice(s.ForbiddenSysctls)
	out.AllowedProcMountTypes = cloneSlice(s.AllowedProcMountTypes)
	if s.RuntimeClass != nil {
		out.RuntimeClass = &RuntimeClassStrategyOptions{
			AllowedRuntimeClassNames: cloneSlice(s.RuntimeClass.AllowedRuntimeClassNames),
			DefaultRuntimeClassName:  clonePtr(s.RuntimeClass.DefaultRuntimeClassName),
		}
	}
}

// cloneSlice copies a slice of values without pointers, keeping nil nil so
// that a copy stays semantically equal to the original.
func cloneSlice[T any](in []T) []T {
	if in == nil {
		return nil
	}
	return append(make([]T, 0, len(in)), in...)
}

func clonePtr[T any](in *T) *T {
	if in == nil {
		return nil
	}
	v := *in
	return &v
}
