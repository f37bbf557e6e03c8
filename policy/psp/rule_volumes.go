package psp

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// volumesRule restricts the volume types.
//
// Policy: spec.volumes, volume types ("*" allows all).
// Pod: spec.volumes[], typed by the source field set (hostPath, emptyDir,
// configMap, ...). A volume of a type Kubernetes 1.24 did not know (an image
// volume, or no source) is refused even under "*", as 1.24 refused a
// volume it could not type.
var volumesRule = rule{
	name:           "volumes",
	validateVolume: validateVolumeType,
}

func validateVolumeType(p *PodSecurityPolicy, _ *corev1.Pod, i int, v *corev1.Volume) field.ErrorList {
	fsType, ok := VolumeFSType(v)
	if !ok {
		return field.ErrorList{field.Invalid(volumesPath.Index(i), "", fmt.Sprintf("unknown volume type for volume: %q", v.Name))}
	}
	if allowsVolume(p, fsType) {
		return nil
	}
	return field.ErrorList{field.Invalid(volumesPath.Index(i), string(fsType), fmt.Sprintf("%s volumes are not allowed to be used", fsType))}
}

func allowsVolume(p *PodSecurityPolicy, t FSType) bool {
	for _, v := range p.Spec.Volumes {
		if v == t || v == All {
			return true
		}
	}
	return false
}

// VolumeFSType gives the policy's name for the type of a volume, and false
// for a volume of no type Kubernetes 1.24 knew.
func VolumeFSType(v *corev1.Volume) (FSType, bool) {
	s := &v.VolumeSource
	switch {
	case s.HostPath != nil:
		return HostPath, true
	case s.EmptyDir != nil:
		return EmptyDir, true
	case s.GCEPersistentDisk != nil:
		return GCEPersistentDisk, true
	case s.AWSElasticBlockStore != nil:
		return AWSElasticBlockStore, true
	case s.GitRepo != nil:
		return GitRepo, true
	case s.Secret != nil:
		return Secret, true
	case s.NFS != nil:
		return NFS, true
	case s.ISCSI != nil:
		return ISCSI, true
	case s.Glusterfs != nil:
		return Glusterfs, true
	case s.PersistentVolumeClaim != nil:
		return PersistentVolumeClaim, true
	case s.RBD != nil:
		return RBD, true
	case s.FlexVolume != nil:
		return FlexVolume, true
	case s.Cinder != nil:
		return Cinder, true
	case s.CephFS != nil:
		return CephFS, true
	case s.Flocker != nil:
		return Flocker, true
	case s.DownwardAPI != nil:
		return DownwardAPI, true
	case s.FC != nil:
		return FC, true
	case s.AzureFile != nil:
		return AzureFile, true
	case s.ConfigMap != nil:
		return ConfigMap, true
	case s.VsphereVolume != nil:
		return VsphereVolume, true
	case s.Quobyte != nil:
		return Quobyte, true
	case s.AzureDisk != nil:
		return AzureDisk, true
	case s.PhotonPersistentDisk != nil:
		return PhotonPersistentDisk, true
	case s.Projected != nil:
		return Projected, true
	case s.PortworxVolume != nil:
		return PortworxVolume, true
	case s.ScaleIO != nil:
		return ScaleIO, true
	case s.StorageOS != nil:
		return StorageOS, true
	case s.CSI != nil:
		return CSI, true
	case s.Ephemeral != nil:
		return Ephemeral, true
	}
	return "", false
}

// fsTypes are the volume types of Kubernetes 1.24, without "*".
var fsTypes = []FSType{
	AWSElasticBlockStore, AzureDisk, AzureFile, CSI, CephFS, Cinder, ConfigMap,
	DownwardAPI, EmptyDir, Ephemeral, FC, FlexVolume, Flocker, GCEPersistentDisk,
	GitRepo, Glusterfs, HostPath, ISCSI, NFS, PersistentVolumeClaim,
	PhotonPersistentDisk, PortworxVolume, Projected, Quobyte, RBD, ScaleIO,
	Secret, StorageOS, VsphereVolume,
}
