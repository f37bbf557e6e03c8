package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// csiDriversRule restricts the drivers of inline CSI volumes.
//
// Policy: spec.allowedCSIDrivers[].name; none allows any driver.
// Pod: spec.volumes[].csi.driver.
var csiDriversRule = rule{
	name:           "csidrivers",
	validateVolume: validateCSIDriver,
}

func validateCSIDriver(p *PodSecurityPolicy, _ *corev1.Pod, i int, v *corev1.Volume) field.ErrorList {
	if v.CSI == nil || len(p.Spec.AllowedCSIDrivers) == 0 {
		return nil
	}
	for _, a := range p.Spec.AllowedCSIDrivers {
		if a.Name == v.CSI.Driver {
			return nil
		}
	}
	path := field.NewPath("spec", "volumes").Index(i).Child("csi", "driver")
	return field.ErrorList{field.Invalid(path, v.CSI.Driver, "Inline CSI driver is not allowed to be used")}
}
