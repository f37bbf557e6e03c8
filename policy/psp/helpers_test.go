package psp

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// permissive is a valid policy that allows everything, for rule tests to
// restrict one thing at a time.
func permissive() *PodSecurityPolicy {
	return &PodSecurityPolicy{
		ObjectMeta: metaNamed("permissive"),
		Spec: PodSecurityPolicySpec{
			Privileged:            true,
			AllowedCapabilities:   []corev1.Capability{AllowAllCapabilities},
			Volumes:               []FSType{All},
			HostNetwork:           true,
			HostPorts:             []HostPortRange{{Min: 0, Max: 65535}},
			HostPID:               true,
			HostIPC:               true,
			SELinux:               SELinuxStrategyOptions{Rule: SELinuxStrategyRunAsAny},
			RunAsUser:             RunAsUserStrategyOptions{Rule: RunAsUserStrategyRunAsAny},
			SupplementalGroups:    SupplementalGroupsStrategyOptions{Rule: SupplementalGroupsStrategyRunAsAny},
			FSGroup:               FSGroupStrategyOptions{Rule: FSGroupStrategyRunAsAny},
			AllowedUnsafeSysctls:  []string{"*"},
			AllowedProcMountTypes: []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount},
		},
	}
}

// decodePolicy decodes a policy document strictly, as podsec's caller does.
func decodePolicy(t *testing.T, doc string) *PodSecurityPolicy {
	t.Helper()
	p := &PodSecurityPolicy{}
	if err := yaml.UnmarshalStrict([]byte(doc), p); err != nil {
		t.Fatalf("decoding policy: %v", err)
	}
	return p
}

// podWith decodes a pod named "web" whose spec is given in flow YAML, as
// `{containers: [{name: c, image: busybox}]}`.
func podWith(t *testing.T, spec string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: " + spec
	if err := yaml.UnmarshalStrict([]byte(doc), pod); err != nil {
		t.Fatalf("decoding pod %q: %v", spec, err)
	}
	return pod
}

// ruleCase is one case of a rule's table.
type ruleCase struct {
	name   string
	policy func(p *PodSecurityPolicy) // applied to permissive()
	pod    string                     // the spec, in flow YAML
	annots map[string]string          // the pod's annotations
	raw    bool                       // validate the pod as is, without defaults
	check  func(t *testing.T, got *corev1.Pod)
	want   []string // the errors, as field.Error prints them
}

// runRuleCases defaults each case's pod with its policy (unless raw), checks
// the result and compares Validate's errors with want.
func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := permissive()
			if tc.policy != nil {
				tc.policy(p)
			}
			if errs := ValidatePolicy(p); len(errs) > 0 {
				t.Fatalf("ValidatePolicy(test policy) = %v", errs)
			}
			pod := podWith(t, tc.pod)
			pod.Annotations = tc.annots
			if !tc.raw {
				given := pod
				var err error
				if pod, err = Default(pod, p); err != nil {
					t.Fatalf("Default() error = %v", err)
				}
				checkTry(t, given, []*PodSecurityPolicy{p})
			}
			if tc.check != nil {
				tc.check(t, pod)
			}
			got := errorStrings(Validate(pod, p))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Validate() =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func errorStrings[E interface{ Error() string }](errs []E) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func metaNamed(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
