package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func runtimeClasses(def string, allowed ...string) func(p *PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		p.Spec.RuntimeClass = &RuntimeClassStrategyOptions{AllowedRuntimeClassNames: allowed}
		if def != "" {
			p.Spec.RuntimeClass.DefaultRuntimeClassName = &def
		}
	}
}

func TestRuleRuntimeClass(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "the default fills an unset name",
			policy: runtimeClasses("gvisor", "gvisor", "kata"),
			pod:    `{containers: [{name: c, image: busybox}]}`,
			check: func(t *testing.T, pod *corev1.Pod) {
				if n := pod.Spec.RuntimeClassName; n == nil || *n != "gvisor" {
					t.Errorf("Default() runtimeClassName = %v, want gvisor", n)
				}
			},
		},
		{
			name:   "a name not allowed",
			policy: runtimeClasses("", "gvisor"),
			pod:    `{runtimeClassName: runc, containers: [{name: c, image: busybox}]}`,
			want:   []string{`spec.runtimeClassName: Invalid value: "runc"`},
		},
		{
			name:   "an unset name is always allowed",
			policy: runtimeClasses("", "gvisor"),
			pod:    `{containers: [{name: c, image: busybox}]}`,
		},
		{
			name:   "* allows any name",
			policy: runtimeClasses("", "*"),
			pod:    `{runtimeClassName: runc, containers: [{name: c, image: busybox}]}`,
		},
	})
}
