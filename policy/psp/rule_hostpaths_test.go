package psp

import "testing"

func TestRuleHostPaths(t *testing.T) {
	paths := func(p *PodSecurityPolicy) {
		p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/foo"}, {PathPrefix: "/var/log/", ReadOnly: true}}
	}
	runRuleCases(t, []ruleCase{
		{
			name:   "a prefix allows itself and what lies under it",
			policy: paths,
			pod:    `{volumes: [{name: a, hostPath: {path: /foo}}, {name: b, hostPath: {path: /foo/bar/}}, {name: c, hostPath: {path: /var/log}}], containers: [{name: c, image: busybox, volumeMounts: [{name: c, mountPath: /l, readOnly: true}]}]}`,
		},
		{
			name:   "a prefix matches whole segments only",
			policy: paths,
			pod:    `{volumes: [{name: a, hostPath: {path: /foobar}}, {name: b, hostPath: {path: /}}], containers: [{name: c, image: busybox}]}`,
			want: []string{
				`spec.volumes[0].hostPath.pathPrefix: Invalid value: "/foobar": is not allowed to be used`,
				`spec.volumes[1].hostPath.pathPrefix: Invalid value: "/": is not allowed to be used`,
			},
		},
		{
			name:   "a read-only prefix needs every mount read-only",
			policy: paths,
			pod:    `{volumes: [{name: logs, hostPath: {path: /var/log/pods}}], initContainers: [{name: i, image: busybox, volumeMounts: [{name: logs, mountPath: /l}]}], containers: [{name: a, image: busybox, volumeMounts: [{name: logs, mountPath: /l, readOnly: true}]}, {name: b, image: busybox, volumeMounts: [{name: x, mountPath: /x}, {name: logs, mountPath: /l}]}]}`,
			want: []string{
				"spec.initContainers[0].volumeMounts[0].readOnly: Invalid value: false: must be read-only",
				"spec.containers[1].volumeMounts[1].readOnly: Invalid value: false: must be read-only",
			},
		},
		{
			name: "a writable prefix wins over a read-only one",
			policy: func(p *PodSecurityPolicy) {
				p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/data", ReadOnly: true}, {PathPrefix: "/data/scratch"}}
			},
			pod: `{volumes: [{name: s, hostPath: {path: /data/scratch/x}}], containers: [{name: c, image: busybox, volumeMounts: [{name: s, mountPath: /s}]}]}`,
		},
		{
			name:   "a disallowed type is not path-checked",
			policy: func(p *PodSecurityPolicy) { paths(p); p.Spec.Volumes = []FSType{EmptyDir} },
			pod:    `{volumes: [{name: a, hostPath: {path: /etc}}], containers: [{name: c, image: busybox}]}`,
			want:   []string{`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used`},
		},
		{
			name: "no prefixes allow any path",
			pod:  `{volumes: [{name: a, hostPath: {path: /etc}}], containers: [{name: c, image: busybox, volumeMounts: [{name: a, mountPath: /e}]}]}`,
		},
	})
}
