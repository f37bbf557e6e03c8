package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// flexVolumesRule restricts Flexvolume drivers.
//
// Policy: spec.allowedFlexVolumes[].driver; none allows any driver.
// Pod: spec.volumes[].flexVolume.driver. As in 1.24 the error names
// spec.volumes[i].driver.
var flexVolumesRule = rule{
	name:           "flexvolumes",
	validateVolume: validateFlexVolume,
}

func validateFlexVolume(p *PodSecurityPolicy, _ *corev1.Pod, i int, v *corev1.Volume) field.ErrorList {
	if v.FlexVolume == nil || len(p.Spec.AllowedFlexVolumes) == 0 {
		return nil
	}
	for _, a := range p.Spec.AllowedFlexVolumes {
		if a.Driver == v.FlexVolume.Driver {
			return nil
		}
	}
	path := field.NewPath("spec", "volumes").Index(i).Child("driver")
	return field.ErrorList{field.Invalid(path, v.FlexVolume.Driver, "Flexvolume driver is not allowed to be used")}
}
