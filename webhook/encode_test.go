package webhook

import (
	"bytes"
	"encoding/json"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestEncodeReview: encodeReview writes what json.Marshal writes of the
// AdmissionReview, byte for byte, for answers of every shape.
func TestEncodeReview(t *testing.T) {
	pt := admissionv1.PatchTypeJSONPatch
	tm := metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}
	tests := []struct {
		name string
		tm   metav1.TypeMeta
		resp admissionv1.AdmissionResponse
	}{
		{"allowed", tm, admissionv1.AdmissionResponse{UID: "u1", Allowed: true}},
		{"no type meta", metav1.TypeMeta{}, admissionv1.AdmissionResponse{UID: "u1", Allowed: true}},
		{"kind only", metav1.TypeMeta{Kind: "AdmissionReview"}, admissionv1.AdmissionResponse{UID: "u1", Allowed: true}},
		{"api version only", metav1.TypeMeta{APIVersion: "admission.k8s.io/v1"}, admissionv1.AdmissionResponse{UID: "u1", Allowed: true}},
		{"escapes", metav1.TypeMeta{APIVersion: "<v1>", Kind: "A&\"B\u2028"}, admissionv1.AdmissionResponse{UID: "u<1>&\x01"}},
		{"mutated", tm, admissionv1.AdmissionResponse{UID: "u2", Allowed: true,
			Patch:     []byte(`[{"op":"add","path":"/metadata/annotations","value":{"kubernetes.io/psp":"t3-ranges"}}]`),
			PatchType: &pt, AuditAnnotations: map[string]string{"admit-policy": "t3-ranges", "b": "<&>", "a": ""},
			Warnings: []string{"one <warning>", "two"}}},
		{"patch of every length", tm, admissionv1.AdmissionResponse{UID: "u", Allowed: true, Patch: []byte("ab"), PatchType: &pt}},
		{"refused", tm, admissionv1.AdmissionResponse{UID: "u3", Result: &metav1.Status{Status: metav1.StatusFailure, Code: 403,
			Reason: metav1.StatusReasonForbidden, Message: "pods \"web\" is forbidden: <unable> & \"validate\"\n"}}},
		{"bad request", tm, admissionv1.AdmissionResponse{UID: "u4", Result: &metav1.Status{Status: metav1.StatusFailure, Code: 400,
			Reason: metav1.StatusReasonBadRequest, Message: "request.object is not a pod"}, Warnings: []string{}}},
		{"empty maps", tm, admissionv1.AdmissionResponse{UID: "u5", Allowed: true, AuditAnnotations: map[string]string{}, Patch: []byte{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(&admissionv1.AdmissionReview{TypeMeta: tc.tm, Response: &tc.resp})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := encodeReview(&buf, tc.tm, &tc.resp); err != nil || buf.String() != string(want) {
				t.Errorf("encodeReview(%s) = %s, %v; want %s", tc.name, buf.String(), err, want)
			}
		})
	}
}
