package psp

import "testing"

func TestRuleFlexVolumes(t *testing.T) {
	drivers := func(p *PodSecurityPolicy) { p.Spec.AllowedFlexVolumes = []AllowedFlexVolume{{Driver: "example/lvm"}} }
	runRuleCases(t, []ruleCase{
		{
			name:   "an allowed driver",
			policy: drivers,
			pod:    `{volumes: [{name: a, flexVolume: {driver: example/lvm}}], containers: [{name: c, image: busybox}]}`,
		},
		{
			name:   "another driver",
			policy: drivers,
			pod:    `{volumes: [{name: a, emptyDir: {}}, {name: b, flexVolume: {driver: example/cifs}}], containers: [{name: c, image: busybox}]}`,
			want:   []string{`spec.volumes[1].driver: Invalid value: "example/cifs": Flexvolume driver is not allowed to be used`},
		},
		{
			name: "no list allows any driver",
			pod:  `{volumes: [{name: b, flexVolume: {driver: example/cifs}}], containers: [{name: c, image: busybox}]}`,
		},
	})
}
