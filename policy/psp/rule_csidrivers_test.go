package psp

import "testing"

func TestRuleCSIDrivers(t *testing.T) {
	drivers := func(p *PodSecurityPolicy) {
		p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{Name: "secrets-store.csi.k8s.io"}}
	}
	runRuleCases(t, []ruleCase{
		{
			name:   "an allowed driver",
			policy: drivers,
			pod:    `{volumes: [{name: a, csi: {driver: secrets-store.csi.k8s.io}}], containers: [{name: c, image: busybox}]}`,
		},
		{
			name:   "another driver",
			policy: drivers,
			pod:    `{volumes: [{name: a, csi: {driver: hostpath.csi.k8s.io}}], containers: [{name: c, image: busybox}]}`,
			want:   []string{`spec.volumes[0].csi.driver: Invalid value: "hostpath.csi.k8s.io": Inline CSI driver is not allowed to be used`},
		},
		{
			name: "no list allows any driver",
			pod:  `{volumes: [{name: a, csi: {driver: hostpath.csi.k8s.io}}], containers: [{name: c, image: busybox}]}`,
		},
	})
}
