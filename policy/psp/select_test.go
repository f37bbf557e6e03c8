package psp

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func named(name string, edit func(p *PodSecurityPolicy)) *PodSecurityPolicy {
	p := permissive()
	p.Name = name
	if edit != nil {
		edit(p)
	}
	return p
}

func TestAdmitPrefersAPolicyThatChangesNothing(t *testing.T) {
	// "a-mutating" sorts first but defaults a user; "b-plain" admits the
	// pod as it is and wins.
	mutating := named("a-mutating", mustRunAsUser(IDRange{Min: 1000, Max: 2000}))
	plain := named("b-plain", nil)
	pod := podWith(t, `{containers: [{name: c, image: busybox}]}`)

	d, err := Admit(pod, []*PodSecurityPolicy{plain, mutating}, nil)
	if err != nil {
		t.Fatalf("Admit() error = %v", err)
	}
	if d.Policy != "b-plain" || d.Pod.Annotations[ValidatedPSPAnnotation] != "b-plain" {
		t.Errorf("Admit() policy = %q, annotation %q, want b-plain", d.Policy, d.Pod.Annotations[ValidatedPSPAnnotation])
	}
	if sc := d.Pod.Spec.Containers[0].SecurityContext; sc != nil {
		t.Errorf("Admit() securityContext = %+v, want the pod unchanged", sc)
	}
	if len(d.Results) != 2 || d.Results[0].Policy != "a-mutating" || !d.Results[0].Mutated || d.Results[1].Mutated {
		t.Errorf("Admit() results = %+v, want a-mutating (mutated) then b-plain", d.Results)
	}
	if pod.Annotations != nil {
		t.Errorf("Admit() changed its argument: %v", pod.Annotations)
	}

	// Without the plain policy usable, the mutating one admits the pod with
	// its default.
	d, err = Admit(pod, []*PodSecurityPolicy{plain, mutating}, func(p *PodSecurityPolicy) bool { return p.Name != "b-plain" })
	if err != nil {
		t.Fatalf("Admit(b-plain unusable) error = %v", err)
	}
	if d.Policy != "a-mutating" || *d.Pod.Spec.Containers[0].SecurityContext.RunAsUser != 1000 {
		t.Errorf("Admit(b-plain unusable) = %q, %+v, want a-mutating with runAsUser 1000", d.Policy, d.Pod.Spec.Containers[0].SecurityContext)
	}
}

func TestAdmitTakesTheFirstMutatingPolicyByName(t *testing.T) {
	a := named("a", mustRunAsUser(IDRange{Min: 1, Max: 1}))
	b := named("b", mustRunAsUser(IDRange{Min: 2, Max: 2}))
	d, err := Admit(podWith(t, `{containers: [{name: c, image: busybox}]}`), []*PodSecurityPolicy{b, a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Policy != "a" || *d.Pod.Spec.Containers[0].SecurityContext.RunAsUser != 1 {
		t.Errorf("Admit() = %q, want a with runAsUser 1", d.Policy)
	}
}

func TestAdmitRefusal(t *testing.T) {
	noPriv := named("no-priv", func(p *PodSecurityPolicy) { p.Spec.Privileged = false })
	noHostPath := named("no-hostpath", func(p *PodSecurityPolicy) { p.Spec.Volumes = []FSType{EmptyDir} })
	hidden := named("hidden", func(p *PodSecurityPolicy) { p.Spec.HostNetwork = false })
	usable := func(p *PodSecurityPolicy) bool { return p.Name != "hidden" }
	pod := podWith(t, `{hostNetwork: true, volumes: [{name: v, hostPath: {path: /}}], containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}`)

	d, err := Admit(pod, []*PodSecurityPolicy{noPriv, hidden, noHostPath}, usable)
	want := `pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: [` +
		`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used ` +
		`spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`
	if err == nil || err.Error() != want {
		t.Fatalf("Admit() error =\n  %v\nwant\n  %s", err, want)
	}
	if !errors.Is(err, ErrUnableToAdmit) {
		t.Errorf("Admit() error is not ErrUnableToAdmit")
	}
	var fe *ForbiddenError
	if !errors.As(err, &fe) || len(fe.Errors) != 2 {
		t.Errorf("Admit() error = %#v, want a ForbiddenError with 2 errors", err)
	}
	if d.Pod != nil || len(d.Results) != 3 || d.Results[1].Policy != "no-hostpath" || d.Results[0].Usable {
		t.Errorf("Admit() decision = %+v", d)
	}
	if got := errorStrings(d.Results[0].Errors); len(got) != 1 || got[0] != "spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used" {
		t.Errorf("Admit() result of hidden = %q", got)
	}
}

func TestAdmitNothingToTry(t *testing.T) {
	pod := podWith(t, `{containers: [{name: c, image: busybox}]}`)
	unusable := named("broken", func(p *PodSecurityPolicy) { p.Spec.FSGroup.Rule = FSGroupStrategyMustRunAs })
	cases := []struct {
		name     string
		pod      *corev1.Pod
		policies []*PodSecurityPolicy
		usable   func(*PodSecurityPolicy) bool
		want     string
		reason   error
	}{
		{
			name:   "no policy",
			pod:    pod,
			want:   `pods "web" is forbidden: PodSecurityPolicy: no providers available to validate pod request`,
			reason: ErrNoProviders,
		},
		{
			name:     "only a policy that cannot be applied",
			pod:      pod,
			policies: []*PodSecurityPolicy{unusable},
			want:     `pods "web" is forbidden: PodSecurityPolicy: no providers available to validate pod request`,
			reason:   ErrNoProviders,
		},
		{
			name:     "no usable policy",
			pod:      &corev1.Pod{ObjectMeta: metaNamed(""), Spec: pod.Spec},
			policies: []*PodSecurityPolicy{named("p", nil)},
			usable:   func(*PodSecurityPolicy) bool { return false },
			want:     `pods "Unknown" is forbidden: PodSecurityPolicy: unable to admit pod: []`,
			reason:   ErrUnableToAdmit,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Admit(tc.pod, tc.policies, tc.usable)
			if err == nil || err.Error() != tc.want || !errors.Is(err, tc.reason) {
				t.Errorf("Admit() error = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestPodName(t *testing.T) {
	for _, tc := range []struct{ name, generate, want string }{
		{"web", "web-", "web"},
		{"", "web-", "web-"},
		{"", "", "Unknown"},
	} {
		pod := &corev1.Pod{}
		pod.Name, pod.GenerateName = tc.name, tc.generate
		if got := podName(pod); got != tc.want {
			t.Errorf("podName(%q, %q) = %q, want %q", tc.name, tc.generate, got, tc.want)
		}
	}
}
