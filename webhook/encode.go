package webhook

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsec/podsec/internal/jsonw"
)

// pooledBufferMax is the largest buffer kept for another review: the
// usual review is a few KiB, and a 3 MiB one must not pin its buffer.
const pooledBufferMax = 64 << 10

// buffers holds the buffers a review's body is read into and its answer
// written into. Nothing decoded from a body refers to it (strings and raw
// objects are copied), and a ResponseWriter does not keep what it is
// given, so both are reused once the answer is written.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	b := buffers.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= pooledBufferMax {
		buffers.Put(b)
	}
}

// encodeReview writes into buf what json.Marshal writes of an
// AdmissionReview holding resp, byte for byte (TestEncodeReview), without
// reflecting over the review and response: the status, annotations and
// warnings go through encoding/json whole.
func encodeReview(buf *bytes.Buffer, tm metav1.TypeMeta, resp *admissionv1.AdmissionResponse) error {
	w := jsonw.New(buf)
	w.Raw("{")
	sep := ""
	if tm.Kind != "" {
		w.Raw(`"kind":`)
		if err := w.Value(tm.Kind); err != nil {
			return err
		}
		sep = ","
	}
	if tm.APIVersion != "" {
		w.Raw(sep + `"apiVersion":`)
		if err := w.Value(tm.APIVersion); err != nil {
			return err
		}
		sep = ","
	}
	w.Raw(sep + `"response":{"uid":`)
	if err := w.Value(string(resp.UID)); err != nil {
		return err
	}
	w.Raw(`,"allowed":` + strconv.FormatBool(resp.Allowed))
	if resp.Result != nil {
		w.Raw(`,"status":`)
		if err := w.Value(resp.Result); err != nil {
			return err
		}
	}
	if len(resp.Patch) > 0 {
		// []byte is a base64 string, as encoding/json writes it.
		w.Raw(`,"patch":"` + base64.StdEncoding.EncodeToString(resp.Patch) + `"`)
	}
	if resp.PatchType != nil {
		w.Raw(`,"patchType":`)
		if err := w.Value(string(*resp.PatchType)); err != nil {
			return err
		}
	}
	if len(resp.AuditAnnotations) > 0 {
		w.Raw(`,"auditAnnotations":`)
		if err := w.Value(resp.AuditAnnotations); err != nil {
			return err
		}
	}
	if len(resp.Warnings) > 0 {
		w.Raw(`,"warnings":`)
		if err := w.Value(resp.Warnings); err != nil {
			return err
		}
	}
	w.Raw("}}")
	return nil
}
