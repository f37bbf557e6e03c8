package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// reflecting over the review and response: the status, if any, goes
// through encoding/json whole.
func encodeReview(buf *bytes.Buffer, tm metav1.TypeMeta, resp *admissionv1.AdmissionResponse) error {
	enc := json.NewEncoder(buf)
	// put writes v as json.Marshal does; an Encoder adds a newline.
	put := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1)
		return nil
	}
	buf.WriteByte('{')
	sep := ""
	if tm.Kind != "" {
		buf.WriteString(`"kind":`)
		if err := put(tm.Kind); err != nil {
			return err
		}
		sep = ","
	}
	if tm.APIVersion != "" {
		buf.WriteString(sep + `"apiVersion":`)
		if err := put(tm.APIVersion); err != nil {
			return err
		}
		sep = ","
	}
	buf.WriteString(sep + `"response":{"uid":`)
	if err := put(string(resp.UID)); err != nil {
		return err
	}
	if resp.Allowed {
		buf.WriteString(`,"allowed":true`)
	} else {
		buf.WriteString(`,"allowed":false`)
	}
	if resp.Result != nil {
		buf.WriteString(`,"status":`)
		if err := put(resp.Result); err != nil {
			return err
		}
	}
	if len(resp.Patch) > 0 {
		buf.WriteString(`,"patch":"`)
		enc64 := base64.NewEncoder(base64.StdEncoding, buf)
		_, _ = enc64.Write(resp.Patch)
		_ = enc64.Close()
		buf.WriteByte('"')
	}
	if resp.PatchType != nil {
		buf.WriteString(`,"patchType":`)
		if err := put(string(*resp.PatchType)); err != nil {
			return err
		}
	}
	if len(resp.AuditAnnotations) > 0 {
		buf.WriteString(`,"auditAnnotations":{`)
		keys := make([]string, 0, len(resp.AuditAnnotations))
		for k := range resp.AuditAnnotations {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := put(k); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := put(resp.AuditAnnotations[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	}
	if len(resp.Warnings) > 0 {
		buf.WriteString(`,"warnings":`)
		if err := put(resp.Warnings); err != nil {
			return err
		}
	}
	buf.WriteString("}}")
	return nil
}
