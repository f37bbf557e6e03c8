package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// FuzzEncodeReview: encodeReview writes what json.Marshal writes of the
// AdmissionReview, byte for byte, whatever its strings hold (the UID, the
// type meta the request chose, a refusal's message quoting a pod's
// fields, warnings, audit annotations, patch bytes), and the answer
// parses back to the same review.
func FuzzEncodeReview(f *testing.F) {
	f.Add("u1", "AdmissionReview", "admission.k8s.io/v1", "pods \"web\" is forbidden", "warn", "admit-policy", "default", []byte(`[{"op":"add"}]`), true)
	f.Add("u\"},\"allowed\":true,\"x\":{\"", "<K>", "&", "\n\x00\u2028\u2029\x7f", "\xff\xfe", "k\"", "\\", []byte{0, 0xff}, false)
	f.Add("", "", "", "", "", "", "", []byte(nil), false)
	f.Fuzz(func(t *testing.T, uid, kind, apiVersion, message, warning, annKey, annValue string, patch []byte, allowed bool) {
		pt := admissionv1.PatchTypeJSONPatch
		tm := metav1.TypeMeta{Kind: kind, APIVersion: apiVersion}
		resps := []admissionv1.AdmissionResponse{
			{UID: types.UID(uid), Allowed: allowed, Patch: patch, PatchType: &pt, Warnings: []string{warning, message},
				AuditAnnotations: map[string]string{annKey: annValue, annValue: annKey}},
			{UID: types.UID(uid), Result: &metav1.Status{Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReason(warning), Message: message}},
		}
		for _, resp := range resps {
			want, err := json.Marshal(&admissionv1.AdmissionReview{TypeMeta: tm, Response: &resp})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := encodeReview(&buf, tm, &resp); err != nil || buf.String() != string(want) {
				t.Fatalf("encodeReview = %s, %v; want %s", buf.String(), err, want)
			}
			var got, again admissionv1.AdmissionReview
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil || got.Response == nil {
				t.Fatalf("encodeReview wrote %s, which does not parse: %v", buf.String(), err)
			}
			if err := json.Unmarshal(want, &again); err != nil || !reflect.DeepEqual(got, again) {
				t.Fatalf("encodeReview's answer parses to %+v, json.Marshal's to %+v", got, again)
			}
			if got.Response.UID != types.UID(strings.ToValidUTF8(uid, "\ufffd")) && utf8Valid(uid) {
				t.Fatalf("answer for UID %q carries UID %q", uid, got.Response.UID)
			}
			if !bytes.Equal(got.Response.Patch, resp.Patch) && len(resp.Patch) > 0 {
				t.Fatalf("patch %q came back as %q", resp.Patch, got.Response.Patch)
			}
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// FuzzReviewPod: a pod whose user-chosen strings hold anything JSON can
// carry (quotes, backslashes, "~" and "/" in label and annotation keys,
// U+2028, HTML and control characters) gets, through the handler, an
// answer that parses, carries its own UID, and whose patch, when there
// is one, only adds the policy's annotation and securityContexts: no
// operation on a path of the pod's own fields.
func FuzzReviewPod(f *testing.F) {
	f.Add("web", "app", "v", "note", "x", "kubia", "A", "1", "u1")
	f.Add("a\"},{\"op\":\"remove\",\"path\":\"/spec", "a~1b/~0c", "\u2028", "kubernetes.io/psp", "privileged", "img\"><&", "\\", "\x00\x1f", "\"")
	f.Add("", "~", "/", "", "", "", "", "", "u\n2")
	h := NewHandler(Config{Store: seedStore(f)})
	f.Fuzz(func(t *testing.T, name, labelKey, labelValue, annKey, annValue, image, envName, envValue, uid string) {
		if uid == "" {
			uid = "u"
		}
		meta, _ := json.Marshal(map[string]any{"name": name, "labels": map[string]string{labelKey: labelValue},
			"annotations": map[string]string{annKey: annValue}})
		spec, _ := json.Marshal(map[string]any{"containers": []any{map[string]any{"name": "c", "image": image,
			"env": []any{map[string]string{"name": envName, "value": envValue}}}}})
		for _, path := range []string{"/mutate", "/validate"} {
			rec, out := serve(t, h, path, podReview(uid, "CREATE", string(meta), string(spec)))
			if rec.Code != 200 {
				t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
			}
			if want := types.UID(strings.ToValidUTF8(uid, "\ufffd")); utf8Valid(uid) && out.Response.UID != want {
				t.Fatalf("POST %s for UID %q: answer carries UID %q", path, uid, out.Response.UID)
			}
			if len(out.Response.Patch) == 0 {
				continue
			}
			var ops []map[string]json.RawMessage
			if err := json.Unmarshal(out.Response.Patch, &ops); err != nil {
				t.Fatalf("patch %s (base64 %s) does not parse: %v", out.Response.Patch, base64.StdEncoding.EncodeToString(out.Response.Patch), err)
			}
			for _, op := range ops {
				var p string
				if err := json.Unmarshal(op["path"], &p); err != nil || (!strings.HasPrefix(p, "/metadata/annotations") && !strings.Contains(p, "securityContext")) || len(op) != 3 {
					t.Fatalf("patch %s has operation %s on a path of the pod's own", out.Response.Patch, op)
				}
			}
		}
	})
}
