package oci

import (
	"fmt"

	"github.com/opencontainers/runc/libcontainer/capabilities"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// Annotations of the features document.
const (
	// AnnotationVersion is podsec-runtime's version.
	AnnotationVersion = "io.podsec.runtime.version"
	// AnnotationPolicy is the node policy's level, and
	// AnnotationPolicyFile its file.
	AnnotationPolicy     = "io.podsec.runtime.policy.level"
	AnnotationPolicyFile = "io.podsec.runtime.policy.file"
)

// Features is what this build of the runtime supports. Unlike runc's:
// no systemd cgroups, no checkpoint, no Intel RDT or net devices claimed,
// and the node policy in the annotations.
func Features(version string, pol *NodePolicy) *features.Features {
	t, f := true, false
	feat := &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         configs.KnownHookNames(),
		MountOptions:  specconv.KnownMountOptions(),
		Annotations: map[string]string{
			AnnotationVersion: version,
			AnnotationPolicy:  string(pol.Level),
		},
		Linux: &features.Linux{
			Namespaces:   specconv.KnownNamespaces(),
			Capabilities: capabilities.KnownCapabilities(),
			Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: &f, SystemdUser: &f},
			Apparmor:     &features.Apparmor{Enabled: &t},
			Selinux:      &features.Selinux{Enabled: &t},
			MountExtensions: &features.MountExtensions{
				IDMap: &features.IDMap{Enabled: &t},
			},
		},
		PotentiallyUnsafeConfigAnnotations: []string{"bundle"},
	}
	if pol.Path != "" {
		feat.Annotations[AnnotationPolicyFile] = pol.Path
	}
	if seccomp.Enabled {
		feat.Linux.Seccomp = &features.Seccomp{
			Enabled:        &t,
			Actions:        seccomp.KnownActions(),
			Operators:      seccomp.KnownOperators(),
			Archs:          seccomp.KnownArchs(),
			KnownFlags:     seccomp.KnownFlags(),
			SupportedFlags: seccomp.SupportedFlags(),
		}
		major, minor, patch := seccomp.Version()
		feat.Annotations["io.github.seccomp.libseccomp.version"] = fmt.Sprintf("%d.%d.%d", major, minor, patch)
	} else {
		feat.Linux.Seccomp = &features.Seccomp{Enabled: &f}
	}
	return feat
}
