package psp

import "testing"

func TestRuleVolumes(t *testing.T) {
	coreVolumes := func(p *PodSecurityPolicy) {
		p.Spec.Volumes = []FSType{EmptyDir, ConfigMap, Secret, DownwardAPI, PersistentVolumeClaim, Projected}
	}
	runRuleCases(t, []ruleCase{
		{
			name:   "the volume types the chapter says to allow",
			policy: coreVolumes,
			pod:    `{volumes: [{name: a, emptyDir: {}}, {name: b, configMap: {name: cm}}, {name: c, secret: {secretName: s}}, {name: d, downwardAPI: {}}, {name: e, persistentVolumeClaim: {claimName: pvc}}, {name: f, projected: {sources: []}}], containers: [{name: c, image: busybox}]}`,
		},
		{
			name:   "other types are refused",
			policy: coreVolumes,
			pod:    `{volumes: [{name: a, emptyDir: {}}, {name: b, hostPath: {path: /etc}}, {name: c, nfs: {server: s, path: /}}, {name: d, csi: {driver: x}}], containers: [{name: c, image: busybox}]}`,
			want: []string{
				`spec.volumes[1]: Invalid value: "hostPath": hostPath volumes are not allowed to be used`,
				`spec.volumes[2]: Invalid value: "nfs": nfs volumes are not allowed to be used`,
				`spec.volumes[3]: Invalid value: "csi": csi volumes are not allowed to be used`,
			},
		},
		{
			name:   "no types allows no volume",
			policy: func(p *PodSecurityPolicy) { p.Spec.Volumes = nil },
			pod:    `{volumes: [{name: a, emptyDir: {}}], containers: [{name: c, image: busybox}]}`,
			want:   []string{`spec.volumes[0]: Invalid value: "emptyDir": emptyDir volumes are not allowed to be used`},
		},
		{
			name: "a volume of a type 1.24 did not know is refused even under *",
			pod:  `{volumes: [{name: img, image: {reference: "busybox:1"}}], containers: [{name: c, image: busybox}]}`,
			want: []string{`spec.volumes[0]: Invalid value: "": unknown volume type for volume: "img"`},
		},
		{
			name: "* allows every known type",
			pod:  `{volumes: [{name: a, hostPath: {path: /}}, {name: b, ephemeral: {}}, {name: c, flexVolume: {driver: d}}], containers: [{name: c, image: busybox}]}`,
		},
	})
}
