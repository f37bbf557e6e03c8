package psp

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestHostUsersIgnored pins that PodSecurityPolicy treats a pod with
// hostUsers: false as Kubernetes 1.24's admission did: it predates the
// field and never reads it. User, group, fsGroup and supplementalGroups
// rules hold the container IDs (what the pod asks for inside its user
// namespace), procMount and host namespace rules are unchanged; the pod's
// defaults and errors are the same with hostUsers false, true or unset.
// (The Pod Security Standards relax runAsNonRoot, runAsUser and procMount
// for such pods from policy version 1.35; PSP does not.)
func TestHostUsersIgnored(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy func(p *PodSecurityPolicy)
		pod    string // spec without hostUsers
		want   []string
	}{
		{name: "MustRunAsNonRoot refuses container root", policy: nonRoot,
			pod:  `{containers: [{name: c, image: busybox, securityContext: {runAsUser: 0}}]}`,
			want: []string{"spec.containers[0].securityContext.runAsUser: Invalid value: 0: running with the root UID is forbidden"}},
		{name: "MustRunAsNonRoot refuses runAsNonRoot false", policy: nonRoot,
			pod:  `{securityContext: {runAsNonRoot: false}, containers: [{name: c, image: busybox}]}`,
			want: []string{"spec.containers[0].securityContext.runAsNonRoot: Invalid value: false: must be true"}},
		{name: "MustRunAs ranges hold container IDs", policy: mustRunAsUser(IDRange{Min: 1000, Max: 2000}),
			pod:  `{containers: [{name: c, image: busybox, securityContext: {runAsUser: 65536}}]}`,
			want: []string{"spec.containers[0].securityContext.runAsUser: Invalid value: 65536: must be in the ranges: [{1000 2000}]"}},
		{name: "MustRunAs defaults a container ID", policy: mustRunAsUser(IDRange{Min: 1000, Max: 2000}),
			pod: `{containers: [{name: c, image: busybox}]}`},
		{name: "runAsGroup ranges", policy: func(p *PodSecurityPolicy) {
			p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyMustRunAs, Ranges: []IDRange{{Min: 1, Max: 10}}}
		}, pod: `{containers: [{name: c, image: busybox, securityContext: {runAsGroup: 0}}]}`,
			want: []string{"spec.containers[0].securityContext: Invalid value: [0]: group 0 must be in the ranges: [{1 10}]"}},
		{name: "fsGroup and supplementalGroups ranges", policy: func(p *PodSecurityPolicy) {
			p.Spec.FSGroup = FSGroupStrategyOptions{Rule: FSGroupStrategyMustRunAs, Ranges: []IDRange{{Min: 1, Max: 10}}}
			p.Spec.SupplementalGroups = SupplementalGroupsStrategyOptions{Rule: SupplementalGroupsStrategyMustRunAs, Ranges: []IDRange{{Min: 1, Max: 10}}}
		}, pod: `{securityContext: {fsGroup: 555, supplementalGroups: [0]}, containers: [{name: c, image: busybox}]}`,
			want: []string{
				"spec.securityContext.fsGroup: Invalid value: [555]: group 555 must be in the ranges: [{1 10}]",
				"spec.securityContext.supplementalGroups: Invalid value: [0]: group 0 must be in the ranges: [{1 10}]",
			}},
		{name: "procMount Unmasked not allowed", policy: func(p *PodSecurityPolicy) { p.Spec.AllowedProcMountTypes = nil },
			pod:  `{containers: [{name: c, image: busybox, securityContext: {procMount: Unmasked}}]}`,
			want: []string{`spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": ProcMountType is not allowed`}},
		{name: "privileged", policy: func(p *PodSecurityPolicy) { p.Spec.Privileged = false },
			pod:  `{containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}`,
			want: []string{"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first []string
			var firstPod *corev1.Pod
			for i, hostUsers := range []string{"", "hostUsers: false, ", "hostUsers: true, "} {
				p := permissive()
				tc.policy(p)
				if errs := ValidatePolicy(p); len(errs) > 0 {
					t.Fatalf("ValidatePolicy(test policy) = %v", errs)
				}
				pod, err := Default(podWith(t, "{"+hostUsers+tc.pod[1:]), p)
				if err != nil {
					t.Fatalf("Default(%s) error = %v", hostUsers, err)
				}
				got := errorStrings(Validate(pod, p))
				if i == 0 {
					first, firstPod = got, pod
					if !slices.Equal(got, tc.want) {
						t.Errorf("Validate() =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
					}
					continue
				}
				if !slices.Equal(got, first) {
					t.Errorf("Validate() with %q =\n  %s\nwithout hostUsers\n  %s", hostUsers, strings.Join(got, "\n  "), strings.Join(first, "\n  "))
				}
				pod.Spec.HostUsers = nil
				if a, b := mustJSON(t, pod), mustJSON(t, firstPod); a != b {
					t.Errorf("Default() with %q differs beyond hostUsers:\n  %s\nwithout:\n  %s", hostUsers, a, b)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
