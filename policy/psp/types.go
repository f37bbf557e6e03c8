package psp

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kind is the kind of a PodSecurityPolicy document.
const Kind = "PodSecurityPolicy"

// APIVersions are the API versions a PodSecurityPolicy was served under:
// policy/v1beta1 until Kubernetes 1.24, and extensions/v1beta1 before 1.16
// (the one the seed chapter uses). Both carry the same schema.
var APIVersions = []string{"policy/v1beta1", "extensions/v1beta1"}

// IsPodSecurityPolicy reports whether a document with this apiVersion and
// kind is a PodSecurityPolicy.
func IsPodSecurityPolicy(apiVersion, kind string) bool {
	if kind != Kind {
		return false
	}
	for _, v := range APIVersions {
		if apiVersion == v {
			return true
		}
	}
	return false
}

// Annotations of a PodSecurityPolicy that configure the seccomp and AppArmor
// strategies (profile names as in the legacy pod annotations, comma
// separated).
const (
	SeccompDefaultProfileAnnotation   = "seccomp.security.alpha.kubernetes.io/defaultProfileName"
	SeccompAllowedProfilesAnnotation  = "seccomp.security.alpha.kubernetes.io/allowedProfileNames"
	AppArmorDefaultProfileAnnotation  = "apparmor.security.beta.kubernetes.io/defaultProfileName"
	AppArmorAllowedProfilesAnnotation = "apparmor.security.beta.kubernetes.io/allowedProfileNames"
)

// ValidatedPSPAnnotation names, on an admitted pod, the policy that admitted
// it.
const ValidatedPSPAnnotation = "kubernetes.io/psp"

// Wildcards of a PodSecurityPolicy.
const (
	AllowAllCapabilities      corev1.Capability = "*"
	AllowAllRuntimeClassNames                   = "*"
	AllowAllSeccompProfiles                     = "*"
)

// PodSecurityPolicy governs the ability to make requests that affect the
// security context applied to a pod and its containers (policy/v1beta1).
type PodSecurityPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec PodSecurityPolicySpec `json:"spec,omitempty"`
}

// PodSecurityPolicySpec is the Kubernetes 1.24 policy/v1beta1 schema.
type PodSecurityPolicySpec struct {
	Privileged               bool                `json:"privileged,omitempty"`
	DefaultAddCapabilities   []corev1.Capability `json:"defaultAddCapabilities,omitempty"`
	RequiredDropCapabilities []corev1.Capability `json:"requiredDropCapabilities,omitempty"`
	AllowedCapabilities      []corev1.Capability `json:"allowedCapabilities,omitempty"`
	Volumes                  []FSType            `json:"volumes,omitempty"`
	HostNetwork              bool                `json:"hostNetwork,omitempty"`
	HostPorts                []HostPortRange     `json:"hostPorts,omitempty"`
	HostPID                  bool                `json:"hostPID,omitempty"`
	HostIPC                  bool                `json:"hostIPC,omitempty"`

	SELinux            SELinuxStrategyOptions            `json:"seLinux"`
	RunAsUser          RunAsUserStrategyOptions          `json:"runAsUser"`
	RunAsGroup         *RunAsGroupStrategyOptions        `json:"runAsGroup,omitempty"`
	SupplementalGroups SupplementalGroupsStrategyOptions `json:"supplementalGroups"`
	FSGroup            FSGroupStrategyOptions            `json:"fsGroup"`

	ReadOnlyRootFilesystem          bool  `json:"readOnlyRootFilesystem,omitempty"`
	DefaultAllowPrivilegeEscalation *bool `json:"defaultAllowPrivilegeEscalation,omitempty"`
	// AllowPrivilegeEscalation defaults to true when unset, as the
	// policy/v1beta1 defaulting did.
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`

	AllowedHostPaths      []AllowedHostPath            `json:"allowedHostPaths,omitempty"`
	AllowedFlexVolumes    []AllowedFlexVolume          `json:"allowedFlexVolumes,omitempty"`
	AllowedCSIDrivers     []AllowedCSIDriver           `json:"allowedCSIDrivers,omitempty"`
	AllowedUnsafeSysctls  []string                     `json:"allowedUnsafeSysctls,omitempty"`
	ForbiddenSysctls      []string                     `json:"forbiddenSysctls,omitempty"`
	AllowedProcMountTypes []corev1.ProcMountType       `json:"allowedProcMountTypes,omitempty"`
	RuntimeClass          *RuntimeClassStrategyOptions `json:"runtimeClass,omitempty"`
}

// AllowedHostPath is a host path prefix a hostPath volume may use.
type AllowedHostPath struct {
	PathPrefix string `json:"pathPrefix,omitempty"`
	ReadOnly   bool   `json:"readOnly,omitempty"`
}

// FSType is a volume type as a policy names it.
type FSType string

// The volume types of Kubernetes 1.24, and the "*" wildcard.
const (
	AzureFile             FSType = "azureFile"
	Flocker               FSType = "flocker"
	FlexVolume            FSType = "flexVolume"
	HostPath              FSType = "hostPath"
	EmptyDir              FSType = "emptyDir"
	GCEPersistentDisk     FSType = "gcePersistentDisk"
	AWSElasticBlockStore  FSType = "awsElasticBlockStore"
	GitRepo               FSType = "gitRepo"
	Secret                FSType = "secret"
	NFS                   FSType = "nfs"
	ISCSI                 FSType = "iscsi"
	Glusterfs             FSType = "glusterfs"
	PersistentVolumeClaim FSType = "persistentVolumeClaim"
	RBD                   FSType = "rbd"
	Cinder                FSType = "cinder"
	CephFS                FSType = "cephFS"
	DownwardAPI           FSType = "downwardAPI"
	FC                    FSType = "fc"
	ConfigMap             FSType = "configMap"
	VsphereVolume         FSType = "vsphereVolume"
	Quobyte               FSType = "quobyte"
	AzureDisk             FSType = "azureDisk"
	PhotonPersistentDisk  FSType = "photonPersistentDisk"
	StorageOS             FSType = "storageos"
	Projected             FSType = "projected"
	PortworxVolume        FSType = "portworxVolume"
	ScaleIO               FSType = "scaleIO"
	CSI                   FSType = "csi"
	Ephemeral             FSType = "ephemeral"
	All                   FSType = "*"
)

// AllowedFlexVolume is a Flexvolume driver a pod may use.
type AllowedFlexVolume struct {
	Driver string `json:"driver"`
}

// AllowedCSIDriver is a CSI driver an inline CSI volume may use.
type AllowedCSIDriver struct {
	Name string `json:"name"`
}

// HostPortRange is an inclusive range of host ports.
type HostPortRange struct {
	Min int32 `json:"min"`
	Max int32 `json:"max"`
}

// SELinuxStrategyOptions is the SELinux strategy of a policy.
type SELinuxStrategyOptions struct {
	Rule           SELinuxStrategy        `json:"rule"`
	SELinuxOptions *corev1.SELinuxOptions `json:"seLinuxOptions,omitempty"`
}

// SELinuxStrategy is an SELinux strategy rule.
type SELinuxStrategy string

// SELinux strategy rules.
const (
	SELinuxStrategyMustRunAs SELinuxStrategy = "MustRunAs"
	SELinuxStrategyRunAsAny  SELinuxStrategy = "RunAsAny"
)

// RunAsUserStrategyOptions is the runAsUser strategy of a policy.
type RunAsUserStrategyOptions struct {
	Rule   RunAsUserStrategy `json:"rule"`
	Ranges []IDRange         `json:"ranges,omitempty"`
}

// RunAsGroupStrategyOptions is the runAsGroup strategy of a policy.
type RunAsGroupStrategyOptions struct {
	Rule   RunAsGroupStrategy `json:"rule"`
	Ranges []IDRange          `json:"ranges,omitempty"`
}

// IDRange is an inclusive range of user or group IDs.
type IDRange struct {
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

// RunAsUserStrategy is a runAsUser strategy rule.
type RunAsUserStrategy string

// runAsUser strategy rules.
const (
	RunAsUserStrategyMustRunAs        RunAsUserStrategy = "MustRunAs"
	RunAsUserStrategyMustRunAsNonRoot RunAsUserStrategy = "MustRunAsNonRoot"
	RunAsUserStrategyRunAsAny         RunAsUserStrategy = "RunAsAny"
)

// RunAsGroupStrategy is a runAsGroup strategy rule.
type RunAsGroupStrategy string

// runAsGroup strategy rules.
const (
	RunAsGroupStrategyMayRunAs  RunAsGroupStrategy = "MayRunAs"
	RunAsGroupStrategyMustRunAs RunAsGroupStrategy = "MustRunAs"
	RunAsGroupStrategyRunAsAny  RunAsGroupStrategy = "RunAsAny"
)

// FSGroupStrategyOptions is the fsGroup strategy of a policy.
type FSGroupStrategyOptions struct {
	Rule   FSGroupStrategyType `json:"rule,omitempty"`
	Ranges []IDRange           `json:"ranges,omitempty"`
}

// FSGroupStrategyType is an fsGroup strategy rule.
type FSGroupStrategyType string

// fsGroup strategy rules.
const (
	FSGroupStrategyMayRunAs  FSGroupStrategyType = "MayRunAs"
	FSGroupStrategyMustRunAs FSGroupStrategyType = "MustRunAs"
	FSGroupStrategyRunAsAny  FSGroupStrategyType = "RunAsAny"
)

// SupplementalGroupsStrategyOptions is the supplementalGroups strategy of a
// policy.
type SupplementalGroupsStrategyOptions struct {
	Rule   SupplementalGroupsStrategyType `json:"rule,omitempty"`
	Ranges []IDRange                      `json:"ranges,omitempty"`
}

// SupplementalGroupsStrategyType is a supplementalGroups strategy rule.
type SupplementalGroupsStrategyType string

// supplementalGroups strategy rules.
const (
	SupplementalGroupsStrategyMayRunAs  SupplementalGroupsStrategyType = "MayRunAs"
	SupplementalGroupsStrategyMustRunAs SupplementalGroupsStrategyType = "MustRunAs"
	SupplementalGroupsStrategyRunAsAny  SupplementalGroupsStrategyType = "RunAsAny"
)

// RuntimeClassStrategyOptions restricts and defaults the RuntimeClass of a
// pod.
type RuntimeClassStrategyOptions struct {
	AllowedRuntimeClassNames []string `json:"allowedRuntimeClassNames"`
	DefaultRuntimeClassName  *string  `json:"defaultRuntimeClassName,omitempty"`
}

// allowsPrivilegeEscalation is spec.allowPrivilegeEscalation with the
// policy/v1beta1 default of true.
func (s *PodSecurityPolicySpec) allowsPrivilegeEscalation() bool {
	return s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation
}
