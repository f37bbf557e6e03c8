package psp

import (
	"os"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// seedDefaultPolicy is the policy of section 13.3.1 of the seed chapter
// (testdata/policies/seed-default-psp.yaml).
var seedDefaultPolicy = readTestdata("../../testdata/policies/seed-default-psp.yaml")

// The other policies of section 13.3 of the seed chapter, as printed there.
const (
	// The chapter shows only the capability fields of this one; the
	// strategies it leaves out are required.
	seedCapabilitiesPolicy = `
apiVersion: extensions/v1beta1
kind: PodSecurityPolicy
metadata:
  name: default
spec:
  allowedCapabilities:
  - SYS_TIME
  defaultAddCapabilities:
  - CHOWN
  requiredDropCapabilities:
  - SYS_ADMIN
  - SYS_MODULE
`
)

func TestSeedDefaultPolicy(t *testing.T) {
	p := decodePolicy(t, seedDefaultPolicy)
	if !IsPodSecurityPolicy(p.APIVersion, p.Kind) {
		t.Fatalf("IsPodSecurityPolicy(%q, %q) = false", p.APIVersion, p.Kind)
	}
	if errs := ValidatePolicy(p); len(errs) > 0 {
		t.Fatalf("ValidatePolicy(seed default) = %v", errs)
	}
	cases := []struct {
		name string
		pod  string
		want []string
	}{
		{name: "a plain pod", pod: `{containers: [{name: main, image: kubia}]}`},
		{name: "a host port in the second range", pod: `{containers: [{name: main, image: kubia, ports: [{containerPort: 8080, hostPort: 13500}]}]}`},
		{
			name: "a host port between the ranges",
			pod:  `{containers: [{name: main, image: kubia, ports: [{containerPort: 8080, hostPort: 12000}]}]}`,
			want: []string{"spec.containers[0].hostPort: Invalid value: 12000: Host port 12000 is not allowed to be used. Allowed ports: [10000-11000,13000-14000]"},
		},
		{
			name: "host namespaces, privileges and a writable root",
			pod:  `{hostNetwork: true, hostPID: true, hostIPC: true, containers: [{name: main, image: kubia, securityContext: {privileged: true, readOnlyRootFilesystem: false}}]}`,
			want: []string{
				"spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used",
				"spec.securityContext.hostPID: Invalid value: true: Host PID is not allowed to be used",
				"spec.securityContext.hostIPC: Invalid value: true: Host IPC is not allowed to be used",
				"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed",
				"spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: false: ReadOnlyRootFilesystem must be set to true",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod, err := Default(podWith(t, tc.pod), p)
			if err != nil {
				t.Fatalf("Default() error = %v", err)
			}
			if ro := pod.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem; ro == nil {
				t.Error("Default() left readOnlyRootFilesystem unset")
			}
			if got := errorStrings(Validate(pod, p)); !slices.Equal(got, tc.want) {
				t.Errorf("Validate() =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestSeedMustRunAsUser(t *testing.T) {
	p := decodePolicy(t, strings.Replace(seedDefaultPolicy, "  runAsUser:\n    rule: RunAsAny\n",
		"  runAsUser:\n    rule: MustRunAs\n    ranges:\n    - min: 2\n      max: 2\n", 1))
	if errs := ValidatePolicy(p); len(errs) > 0 {
		t.Fatalf("ValidatePolicy() = %v", errs)
	}
	pod, err := Default(podWith(t, `{containers: [{name: main, image: kubia}]}`), p)
	if err != nil {
		t.Fatal(err)
	}
	if uid := pod.Spec.Containers[0].SecurityContext.RunAsUser; uid == nil || *uid != 2 {
		t.Errorf("Default() runAsUser = %v, want 2", uid)
	}

	_, err = Admit(podWith(t, `{containers: [{name: main, image: kubia, securityContext: {runAsUser: 405}}]}`), []*PodSecurityPolicy{p}, nil)
	want := `pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.runAsUser: Invalid value: 405: must be in the ranges: [{2 2}]]`
	if err == nil || err.Error() != want {
		t.Errorf("Admit(runAsUser 405) error =\n  %v\nwant\n  %s", err, want)
	}
}

func TestSeedCapabilitiesPolicy(t *testing.T) {
	p := decodePolicy(t, seedCapabilitiesPolicy)
	want := []string{
		`spec.runAsUser.rule: Unsupported value: "": supported values: "MustRunAs", "MustRunAsNonRoot", "RunAsAny"`,
		`spec.seLinux.rule: Unsupported value: "": supported values: "MustRunAs", "RunAsAny"`,
		`spec.supplementalGroups.rule: Unsupported value: "": supported values: "MayRunAs", "MustRunAs", "RunAsAny"`,
		`spec.fsGroup.rule: Unsupported value: "": supported values: "MayRunAs", "MustRunAs", "RunAsAny"`,
	}
	if got := errorStrings(ValidatePolicy(p)); !slices.Equal(got, want) {
		t.Errorf("ValidatePolicy(excerpt) =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	p.Spec.RunAsUser.Rule = RunAsUserStrategyRunAsAny
	p.Spec.SELinux.Rule = SELinuxStrategyRunAsAny
	p.Spec.SupplementalGroups.Rule = SupplementalGroupsStrategyRunAsAny
	p.Spec.FSGroup.Rule = FSGroupStrategyRunAsAny
	p.Spec.Volumes = []FSType{All}
	if errs := ValidatePolicy(p); len(errs) > 0 {
		t.Fatalf("ValidatePolicy(completed) = %v", errs)
	}

	d, err := Admit(podWith(t, `{containers: [{name: main, image: kubia, securityContext: {capabilities: {add: [SYS_TIME]}}}]}`), []*PodSecurityPolicy{p}, nil)
	if err != nil {
		t.Fatalf("Admit(add SYS_TIME) error = %v", err)
	}
	wantCaps := &corev1.Capabilities{Add: []corev1.Capability{"CHOWN", "SYS_TIME"}, Drop: []corev1.Capability{"SYS_ADMIN", "SYS_MODULE"}}
	if got := d.Pod.Spec.Containers[0].SecurityContext.Capabilities; !apiequality.Semantic.DeepEqual(got, wantCaps) {
		t.Errorf("Admit() capabilities = %+v, want %+v", got, wantCaps)
	}

	_, err = Admit(podWith(t, `{containers: [{name: main, image: kubia, securityContext: {capabilities: {add: [SYS_ADMIN]}}}]}`), []*PodSecurityPolicy{p}, nil)
	wantErr := `pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.capabilities.add: Invalid value: "SYS_ADMIN": capability may not be added]`
	if err == nil || err.Error() != wantErr {
		t.Errorf("Admit(add SYS_ADMIN) error =\n  %v\nwant\n  %s", err, wantErr)
	}
}

// readTestdata reads a fixture of the repository's testdata, failing the
// test binary at once when it is missing.
func readTestdata(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic("reading test fixture: " + err.Error())
	}
	return string(b)
}
