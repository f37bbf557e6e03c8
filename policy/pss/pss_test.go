package pss

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func plainPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "i"}}},
	}
}

func privilegedPod() *corev1.Pod {
	p := plainPod()
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}
	return p
}

const restrictedReasons = `allowPrivilegeEscalation != false (container "x" must set securityContext.allowPrivilegeEscalation=false), ` +
	`unrestricted capabilities (container "x" must set securityContext.capabilities.drop=["ALL"]), ` +
	`runAsNonRoot != true (pod or container "x" must set securityContext.runAsNonRoot=true), ` +
	`seccompProfile (pod or container "x" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`

func TestAdmit(t *testing.T) {
	ev, err := NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		labels       map[string]string
		pod          *corev1.Pod
		wantErr      string // exact; empty: allowed
		wantWarnings []string
		wantAudit    map[string]string
	}{
		{name: "no labels: privileged", pod: privilegedPod(),
			wantAudit: map[string]string{AnnotationEnforcePolicy: "privileged:latest"}},
		{name: "restricted enforce", labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, pod: plainPod(),
			wantErr:   `pods "p" is forbidden: violates PodSecurity "restricted:latest": ` + restrictedReasons,
			wantAudit: map[string]string{AnnotationEnforcePolicy: "restricted:latest"}},
		{name: "baseline enforce with version", pod: privilegedPod(),
			labels:    map[string]string{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.25"},
			wantErr:   `pods "p" is forbidden: violates PodSecurity "baseline:v1.25": privileged (container "x" must not set securityContext.privileged=true)`,
			wantAudit: map[string]string{AnnotationEnforcePolicy: "baseline:v1.25"}},
		{name: "baseline allows a plain pod", labels: map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}, pod: plainPod(),
			// warn defaults to the enforce level when that is stricter.
			wantAudit: map[string]string{AnnotationEnforcePolicy: "baseline:latest"}},
		{name: "warn and audit", pod: plainPod(),
			labels:       map[string]string{"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/audit-version": "v1.30"},
			wantWarnings: []string{`would violate PodSecurity "restricted:latest": ` + restrictedReasons},
			wantAudit: map[string]string{AnnotationEnforcePolicy: "privileged:latest",
				AnnotationAuditViolations: `would violate PodSecurity "restricted:v1.30": ` + restrictedReasons}},
		{name: "no warnings on a refused pod", pod: privilegedPod(),
			labels:    map[string]string{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted"},
			wantErr:   `pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container "x" must not set securityContext.privileged=true)`,
			wantAudit: map[string]string{AnnotationEnforcePolicy: "baseline:latest"}},
		{name: "invalid enforce level fails closed", labels: map[string]string{"pod-security.kubernetes.io/enforce": "strict"}, pod: plainPod(),
			wantErr: `pods "p" is forbidden: violates PodSecurity "restricted:latest": ` + restrictedReasons,
			wantAudit: map[string]string{AnnotationEnforcePolicy: "restricted:latest",
				AnnotationError: `Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`}},
		{name: "invalid warn level fails open", labels: map[string]string{"pod-security.kubernetes.io/warn": "nope"}, pod: plainPod(),
			wantAudit: map[string]string{AnnotationEnforcePolicy: "privileged:latest",
				AnnotationError: `Failed to parse policy: metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "nope": must be one of privileged, baseline, restricted`}},
		{name: "invalid version reads as latest", labels: map[string]string{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "1.25"}, pod: privilegedPod(),
			wantErr: `pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container "x" must not set securityContext.privileged=true)`,
			wantAudit: map[string]string{AnnotationEnforcePolicy: "baseline:latest",
				AnnotationError: `Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.25": must be "latest" or "v1.x"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ev.Admit(tc.labels, tc.pod)
			gotErr := ""
			if d.Err != nil {
				gotErr = d.Err.Error()
			}
			if gotErr != tc.wantErr || d.Allowed != (tc.wantErr == "") {
				t.Errorf("Admit(%v) = allowed %v, error %q; want error %q", tc.labels, d.Allowed, gotErr, tc.wantErr)
			}
			if strings.Join(d.Warnings, "\n") != strings.Join(tc.wantWarnings, "\n") {
				t.Errorf("Admit(%v) warnings = %q, want %q", tc.labels, d.Warnings, tc.wantWarnings)
			}
			if len(d.AuditAnnotations) != len(tc.wantAudit) {
				t.Errorf("Admit(%v) audit annotations = %q, want %q", tc.labels, d.AuditAnnotations, tc.wantAudit)
			}
			for k, v := range tc.wantAudit {
				if d.AuditAnnotations[k] != v {
					t.Errorf("Admit(%v) audit annotation %s = %q, want %q", tc.labels, k, d.AuditAnnotations[k], v)
				}
			}
		})
	}
}

func TestValidateNamespaceLabels(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{labels: nil},
		{labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.37", "other": "x"}},
		{labels: map[string]string{"pod-security.kubernetes.io/audit": "Restricted"}, want: `metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "Restricted": must be one of privileged, baseline, restricted`},
		{labels: map[string]string{"pod-security.kubernetes.io/warn-version": "v2.0"}, want: `metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v2.0": must be "latest" or "v1.x"`},
	}
	for _, tc := range tests {
		got := ""
		if errs := ValidateNamespaceLabels(tc.labels); len(errs) > 0 {
			got = errs.ToAggregate().Error()
		}
		if got != tc.want {
			t.Errorf("ValidateNamespaceLabels(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}
