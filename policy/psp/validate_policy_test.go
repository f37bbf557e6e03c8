package psp

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestValidatePolicy(t *testing.T) {
	cases := []struct {
		name   string
		policy func(p *PodSecurityPolicy)
		want   []string
	}{
		{name: "permissive"},
		{
			name:   "name and namespace",
			policy: func(p *PodSecurityPolicy) { p.Name, p.Namespace = "", "default" },
			want: []string{
				"metadata.name: Required value: name or generateName is required",
				"metadata.namespace: Forbidden: not allowed on this type",
			},
		},
		{
			name: "type meta",
			policy: func(p *PodSecurityPolicy) {
				p.APIVersion, p.Kind = "policy/v1", "Pod"
			},
			want: []string{
				`apiVersion: Unsupported value: "policy/v1": supported values: "policy/v1beta1", "extensions/v1beta1"`,
				`kind: Unsupported value: "Pod": supported values: "PodSecurityPolicy"`,
			},
		},
		{
			name: "rules",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.RunAsUser.Rule = ""
				p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: "Any"}
				p.Spec.SELinux.Rule = "MayRunAs"
				p.Spec.SupplementalGroups.Rule = "bogus"
				p.Spec.FSGroup.Rule = ""
			},
			want: []string{
				`spec.runAsUser.rule: Unsupported value: "": supported values: "MustRunAs", "MustRunAsNonRoot", "RunAsAny"`,
				`spec.runAsGroup.rule: Unsupported value: "Any": supported values: "MustRunAs", "RunAsAny", "MayRunAs"`,
				`spec.seLinux.rule: Unsupported value: "MayRunAs": supported values: "MustRunAs", "RunAsAny"`,
				`spec.supplementalGroups.rule: Unsupported value: "bogus": supported values: "MayRunAs", "MustRunAs", "RunAsAny"`,
				`spec.fsGroup.rule: Unsupported value: "": supported values: "MayRunAs", "MustRunAs", "RunAsAny"`,
			},
		},
		{
			name: "ranges",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: []IDRange{{Min: -1, Max: 1}, {Min: 5, Max: 2}}}
				p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyRunAsAny, Ranges: []IDRange{{Min: 1, Max: 1}}}
				p.Spec.FSGroup = FSGroupStrategyOptions{Rule: FSGroupStrategyMustRunAs, Ranges: []IDRange{{Min: 1, Max: 1 << 32}}}
			},
			want: []string{
				"spec.runAsUser.ranges[0].min: Invalid value: -1: min cannot be negative",
				"spec.runAsUser.ranges[1].min: Invalid value: 5: min cannot be greater than max",
				`spec.runAsGroup.ranges: Invalid value: [{"min":1,"max":1}]: Ranges must be empty`,
				"spec.fsGroup.ranges[0].max: Invalid value: 4294967296: max cannot be greater than 2147483647",
			},
		},
		{
			name: "strategies without their ranges or options (podsec)",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs}
				p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyMayRunAs}
				p.Spec.SELinux = SELinuxStrategyOptions{Rule: SELinuxStrategyMustRunAs}
				p.Spec.SupplementalGroups = SupplementalGroupsStrategyOptions{Rule: SupplementalGroupsStrategyMayRunAs}
				p.Spec.FSGroup = FSGroupStrategyOptions{Rule: FSGroupStrategyMustRunAs}
			},
			want: []string{
				"spec.runAsUser.ranges: Required value: MustRunAs requires at least one range",
				"spec.runAsGroup.ranges: Invalid value: null: must provide at least one range",
				"spec.seLinux.seLinuxOptions: Required value: MustRunAs requires SELinuxOptions",
				"spec.supplementalGroups.ranges: Required value: ranges must be supplied for MayRunAs",
				"spec.fsGroup.ranges: Required value: ranges must be supplied for MustRunAs",
			},
		},
		{
			name:   "volumes",
			policy: func(p *PodSecurityPolicy) { p.Spec.Volumes = []FSType{"*", "emptyDir", "image"} },
			want: []string{
				`spec.volumes: Unsupported value: "image": supported values: "*", "awsElasticBlockStore", "azureDisk", "azureFile", "cephFS", "cinder", "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "iscsi", "nfs", "persistentVolumeClaim", "photonPersistentDisk", "portworxVolume", "projected", "quobyte", "rbd", "scaleIO", "secret", "storageos", "vsphereVolume"`,
			},
		},
		{
			name: "capabilities",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.AllowedCapabilities = []corev1.Capability{"*", "CAP_SYS_TIME"}
				p.Spec.DefaultAddCapabilities = []corev1.Capability{"chown"}
				p.Spec.RequiredDropCapabilities = []corev1.Capability{"CHOWN", "SYS_TIME"}
			},
			want: []string{
				`requiredDropCapabilities: Invalid value: ["CHOWN","SYS_TIME"]: must be empty when all capabilities are allowed by a wildcard`,
				`defaultAddCapabilities: Invalid value: "chown": capability is listed in defaultAddCapabilities and requiredDropCapabilities`,
				`allowedCapabilities: Invalid value: "CAP_SYS_TIME": capability is listed in allowedCapabilities and requiredDropCapabilities`,
			},
		},
		{
			name: "privilege escalation",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.AllowPrivilegeEscalation = ptrTo(false)
				p.Spec.DefaultAllowPrivilegeEscalation = ptrTo(true)
			},
			want: []string{"spec.defaultAllowPrivilegeEscalation: Invalid value: true: Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true"},
		},
		{
			name: "paths, drivers and proc mounts",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{"Masked"}
				p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/var/../etc"}, {PathPrefix: ""}, {PathPrefix: "/x/.."}}
				p.Spec.AllowedFlexVolumes = []AllowedFlexVolume{{Driver: ""}}
				p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{Name: "Bad_Driver"}}
			},
			want: []string{
				`spec.allowedProcMountTypes[0]: Unsupported value: "Masked": supported values: "Default", "Unmasked"`,
				`spec.allowedHostPaths[0]: Invalid value: "/var/../etc": must not contain '..'`,
				"spec.allowedHostPaths[1]: Required value: is required",
				"spec.allowedFlexVolumes.allowedFlexVolumes[0].driver: Required value: must specify a driver",
				`spec.allowedCSIDrivers[0].name: Invalid value: "Bad_Driver": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
			},
		},
		{
			name: "sysctls",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.AllowedUnsafeSysctls = []string{"kernel.msg*", "net.core.somaxconn", "a.*.b", ""}
				p.Spec.ForbiddenSysctls = []string{"kernel.*", "net.core.somaxconn", "*"}
			},
			want: []string{
				`spec.allowedUnsafeSysctls[2]: Invalid value: "a.*.b": must have at most 253 characters and match regex ([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]`,
				`spec.allowedUnsafeSysctls[3]: Invalid value: "": empty sysctl not allowed`,
				`spec.forbiddenSysctls.items: Forbidden: if '*' is present, must not specify other sysctls`,
				`spec.allowedUnsafeSysctls[0]: Invalid value: "kernel.msg*": sysctl overlaps with kernel.*`,
				`spec.allowedUnsafeSysctls[0]: Invalid value: "kernel.msg*": sysctl overlaps with *`,
				`spec.allowedUnsafeSysctls[1]: Invalid value: "net.core.somaxconn": sysctl overlaps with net.core.somaxconn`,
				`spec.allowedUnsafeSysctls[1]: Invalid value: "net.core.somaxconn": sysctl overlaps with *`,
				`spec.allowedUnsafeSysctls[2]: Invalid value: "a.*.b": sysctl overlaps with *`,
				`spec.allowedUnsafeSysctls[3]: Invalid value: "": sysctl overlaps with *`,
			},
		},
		{
			name: "runtime classes",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.RuntimeClass = &RuntimeClassStrategyOptions{
					AllowedRuntimeClassNames: []string{"*", "gvisor", "gvisor", "Bad"},
					DefaultRuntimeClassName:  ptrTo("kata"),
				}
			},
			want: []string{
				`spec.runtimeClass.allowedRuntimeClassNames[2]: Duplicate value: "gvisor"`,
				`spec.runtimeClass.allowedRuntimeClassNames[3]: Invalid value: "Bad": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
				`spec.runtimeClass.allowedRuntimeClassNames: Invalid value: ["*","gvisor","gvisor","Bad"]: if '*' is present, must not specify other RuntimeClass names`,
			},
		},
		{
			name: "a default runtime class must be allowed",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.RuntimeClass = &RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"gvisor"}, DefaultRuntimeClassName: ptrTo("kata")}
			},
			want: []string{`spec.runtimeClass.allowedRuntimeClassNames: Required value: default runtime class "kata" must be allowed`},
		},
		{
			name: "host ports (podsec)",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.HostPorts = []HostPortRange{{Min: 10000, Max: 11000}, {Min: 2, Max: 1}, {Min: -1, Max: 70000}}
			},
			want: []string{
				"spec.hostPorts[1].min: Invalid value: 2: min cannot be greater than max",
				"spec.hostPorts[2].min: Invalid value: -1: must be between 0 and 65535, inclusive",
				"spec.hostPorts[2].max: Invalid value: 70000: must be between 0 and 65535, inclusive",
			},
		},
		{
			name: "profile annotations",
			policy: func(p *PodSecurityPolicy) {
				p.Annotations = map[string]string{
					SeccompDefaultProfileAnnotation:   "*",
					SeccompAllowedProfilesAnnotation:  "runtime/default,*,localhost//abs,localhost/../up,default",
					AppArmorDefaultProfileAnnotation:  "not-good",
					AppArmorAllowedProfilesAnnotation: "runtime/default,bad",
				}
			},
			want: []string{
				`metadata.annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]: Invalid value: "not-good": invalid AppArmor profile name: "not-good"`,
				`metadata.annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]: Invalid value: "runtime/default,bad": invalid AppArmor profile name: "bad"`,
				`metadata.annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]: Invalid value: "*": must be a valid seccomp profile`,
				`metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: Invalid value: "/abs": must be a relative path`,
				`metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: Invalid value: "../up": must not contain '..'`,
				`metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: Invalid value: "default": must be a valid seccomp profile`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := permissive()
			if tc.policy != nil {
				tc.policy(p)
			}
			got := errorStrings(ValidatePolicy(p))
			if !slices.Equal(got, tc.want) {
				t.Errorf("ValidatePolicy() =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestBuild(t *testing.T) {
	p := permissive()
	p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs}
	p.Spec.FSGroup.Rule = "Sometimes"
	err := Build(p)
	want := "[MustRunAs requires at least one range, Unrecognized FSGroup strategy type Sometimes]"
	if err == nil || err.Error() != want {
		t.Fatalf("Build() = %v, want %s", err, want)
	}
	if !errorsIs(err, ErrUnusablePolicy) {
		t.Errorf("Build() = %v, want an ErrUnusablePolicy", err)
	}
	got := errorStrings(Validate(podWith(t, `{containers: [{name: c, image: busybox}]}`), p))
	wantV := []string{"podSecurityPolicy[permissive]: Internal error: " + want}
	if !slices.Equal(got, wantV) {
		t.Errorf("Validate() = %q, want %q", got, wantV)
	}
	if _, err := Default(&corev1.Pod{}, p); err == nil {
		t.Error("Default() error = nil, want Build's")
	}
}
