package psp

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// tryByCopy is what Set.Try answers, the way Admit computed it before
// Set: a deep copy of the pod per policy, defaulted, compared whole with
// the pod and validated.
func tryByCopy(pod *corev1.Pod, p *PodSecurityPolicy) Result {
	r := Result{Policy: p.Name}
	cp, err := Default(pod, p)
	if r.Err = err; err != nil {
		return r
	}
	r.Mutated = !apiequality.Semantic.DeepEqual(pod, cp)
	r.Errors = Validate(cp, p)
	return r
}

// checkTry tries the policies in turn on one Trial of pod, as Admit does,
// and fails unless each result is tryByCopy's and the pod is left as it
// was, however the scratch pod is reused from one policy to the next.
func checkTry(t *testing.T, pod *corev1.Pod, policies []*PodSecurityPolicy) {
	t.Helper()
	before := pod.DeepCopy()
	set := NewSet(policies)
	trial := NewTrial(pod)
	for i := range set.Len() {
		p := set.Policy(i)
		got, want := set.Try(trial, i), tryByCopy(before, p)
		if got.Policy != want.Policy || got.Mutated != want.Mutated || (got.Err == nil) != (want.Err == nil) ||
			!slices.Equal(errorStrings(got.Errors), errorStrings(want.Errors)) {
			t.Errorf("Try(%s) = mutated %v, err %v, errors %q; defaulting a deep copy gives mutated %v, err %v, errors %q",
				p.Name, got.Mutated, got.Err, errorStrings(got.Errors), want.Mutated, want.Err, errorStrings(want.Errors))
		}
		if !reflect.DeepEqual(pod, before) {
			t.Fatalf("Try(%s) changed the pod", p.Name)
		}
	}
}

// everyDefault is a policy whose every strategy defaults something.
func everyDefault(name string) *PodSecurityPolicy {
	p := permissive()
	p.Name = name
	p.Annotations = map[string]string{
		SeccompDefaultProfileAnnotation:   "runtime/default",
		SeccompAllowedProfilesAnnotation:  "runtime/default,localhost/x",
		AppArmorDefaultProfileAnnotation:  "runtime/default",
		AppArmorAllowedProfilesAnnotation: "runtime/default",
	}
	p.Spec.Privileged = false
	p.Spec.DefaultAddCapabilities = []corev1.Capability{"CHOWN"}
	p.Spec.RequiredDropCapabilities = []corev1.Capability{"NET_RAW"}
	p.Spec.AllowedCapabilities = nil
	p.Spec.ReadOnlyRootFilesystem = true
	p.Spec.DefaultAllowPrivilegeEscalation = ptrTo(false)
	p.Spec.SELinux = SELinuxStrategyOptions{Rule: SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Level: "s0:c1,c2"}}
	p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: []IDRange{{Min: 1000, Max: 2000}}}
	p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyMustRunAs, Ranges: []IDRange{{Min: 1000, Max: 2000}}}
	p.Spec.FSGroup = FSGroupStrategyOptions{Rule: FSGroupStrategyMustRunAs, Ranges: []IDRange{{Min: 3000, Max: 3000}}}
	p.Spec.SupplementalGroups = SupplementalGroupsStrategyOptions{Rule: SupplementalGroupsStrategyMustRunAs, Ranges: []IDRange{{Min: 4000, Max: 4000}}}
	p.Spec.RuntimeClass = &RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"runc"}, DefaultRuntimeClassName: ptrTo("runc")}
	return p
}

func TestTryIsDefaultingACopy(t *testing.T) {
	nonRootPolicy := named("non-root", nonRoot)
	broken := named("broken", func(p *PodSecurityPolicy) { p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: "Nope"} })
	policies := []*PodSecurityPolicy{everyDefault("a-every"), named("b-permissive", nil), nonRootPolicy, broken, everyDefault("z-every")}
	pods := map[string]string{
		"plain": `{containers: [{name: c, image: busybox}]}`,
		"every container kind": `{initContainers: [{name: i, image: busybox}], containers: [{name: c, image: busybox, securityContext: {runAsUser: 0}}],
  ephemeralContainers: [{name: e, image: busybox, targetContainerName: c}]}`,
		"already what the defaults give": `{runtimeClassName: runc, securityContext: {fsGroup: 3000, supplementalGroups: [4000], seLinuxOptions: {level: "s0:c1,c2"}, seccompProfile: {type: RuntimeDefault}},
  containers: [{name: c, image: busybox, securityContext: {runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
    appArmorProfile: {type: RuntimeDefault}, capabilities: {add: [CHOWN], drop: [NET_RAW]}}}]}`,
		"empty lists and contexts": `{securityContext: {supplementalGroups: [], sysctls: []}, containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [], drop: []}}}]}`,
		"violations": `{hostPID: true, securityContext: {runAsUser: 0, sysctls: [{name: kernel.msgmax, value: "1"}]},
  volumes: [{name: h, hostPath: {path: /etc}}],
  containers: [{name: c, image: busybox, securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN, SYS_ADMIN]}}, volumeMounts: [{name: h, mountPath: /h}]},
    {name: d, image: busybox, securityContext: {runAsNonRoot: false}}]}`,
	}
	for name, spec := range pods {
		t.Run(name, func(t *testing.T) {
			pod := podWith(t, spec)
			pod.Annotations = map[string]string{"a": "b"}
			checkTry(t, pod, policies)
			slices.Reverse(policies)
			checkTry(t, pod, policies)
		})
	}
}

func TestSetAdmitTakesOneCopy(t *testing.T) {
	pod := podWith(t, `{containers: [{name: c, image: busybox}]}`)
	d, err := NewSet([]*PodSecurityPolicy{everyDefault("every")}).Admit(pod, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Default(pod, everyDefault("every"))
	want.Annotations = map[string]string{ValidatedPSPAnnotation: "every"}
	if !apiequality.Semantic.DeepEqual(d.Pod, want) {
		t.Errorf("Set.Admit() pod = %+v, want the policy's defaults: %+v", d.Pod.Spec, want.Spec)
	}
	// The admitted pod shares nothing with the given one.
	d.Pod.Spec.Containers[0].Image = "changed"
	if pod.Spec.Containers[0].Image != "busybox" {
		t.Error("Set.Admit() pod shares its containers with the given pod")
	}
}

// TestChooseIsAdmit: Choose, which tries only the usable policies, comes
// to Admit's decision and error for every pod, whoever may use what.
func TestChooseIsAdmit(t *testing.T) {
	broken := named("c-broken", func(p *PodSecurityPolicy) { p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: "Nope"} })
	policies := []*PodSecurityPolicy{everyDefault("a-every"), named("b-permissive", nil), broken, named("d-non-root", nonRoot),
		named("e-no-host", func(p *PodSecurityPolicy) { p.Spec.HostPID, p.Spec.Privileged = false, false }), everyDefault("f-every")}
	set := NewSet(policies)
	pods := []string{
		`{containers: [{name: c, image: busybox}]}`,
		`{hostPID: true, containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}`,
		`{containers: [{name: c, image: busybox, securityContext: {runAsUser: 1500}}]}`,
	}
	// Every subset of the policies as the usable ones.
	for mask := range 1 << len(policies) {
		usable := func(p *PodSecurityPolicy) bool {
			i := slices.Index(policies, p)
			return mask&(1<<i) != 0
		}
		for _, spec := range pods {
			pod := podWith(t, spec)
			want, wantErr := set.Admit(pod, usable)
			got, gotErr := set.Choose(pod, usable)
			if got.Policy != want.Policy || !apiequality.Semantic.DeepEqual(got.Pod, want.Pod) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("usable %06b, pod %s: Choose() = %q, %v; Admit() = %q, %v", mask, spec, got.Policy, gotErr, want.Policy, wantErr)
			}
		}
	}
	// Only the broken policy usable: the others still count as providers.
	_, err := set.Choose(podWith(t, pods[0]), func(p *PodSecurityPolicy) bool { return p == broken })
	if want := `pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: []`; fmt.Sprint(err) != want {
		t.Errorf("Choose(only a broken policy usable) = %v, want %s", err, want)
	}
}

// TestScratchHolds: an error value that points into the scratch retires
// it; values that do not, keep it for the next policy.
func TestScratchHolds(t *testing.T) {
	pod := podWith(t, `{securityContext: {runAsUser: 1}, containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}`)
	s := &scratch{}
	cp := s.reset(pod)
	priv := cp.Spec.Containers[0].SecurityContext.Privileged
	for _, tc := range []struct {
		name string
		v    any
		want bool
	}{
		{"the scratch's container securityContext", cp.Spec.Containers[0].SecurityContext, true},
		{"the scratch's pod securityContext", cp.Spec.SecurityContext, true},
		{"the scratch's containers", cp.Spec.Containers, true},
		{"the scratch's pod", cp, true},
		{"a field of a scratch container", &cp.Spec.Containers[0].Image, true},
		{"a pointer the scratch shares with the pod", priv, false},
		{"the pod's own containers", pod.Spec.Containers, false},
		{"a number", int64(5), false},
		{"a string", "x", false},
		{"nil", nil, false},
		{"a struct", corev1.Capabilities{}, true},
	} {
		if got := s.holds(tc.v); got != tc.want {
			t.Errorf("holds(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
