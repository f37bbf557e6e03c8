package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"

	"github.com/podsec/podsec/policy/admission"
)

// Limits of a review the webhook decodes and decides. A body's size alone
// does not bound a review's cost: "{}" is three bytes of JSON and a
// 408-byte corev1.Container, which every policy then checks and a
// mutation gives a securityContext. A 3 MiB review of a million empty
// containers took 2.1 GB to decode and, on /mutate, 13 s, 5.7 GB of
// allocation and a 139 MB answer; four at once took the node's memory.
// No pod runs that many containers (each is a process tree and a cgroup
// the kubelet watches), and the API server sends the webhook a pod
// before validating it, so the limits are the webhook's own.
const (
	// MaxPodContainers bounds a pod's containers, init containers and
	// ephemeral containers together.
	MaxPodContainers = 1024
	// MaxPodVolumes bounds a pod's volumes.
	MaxPodVolumes = 4096
	// MaxReviewObjects bounds the JSON objects of a review. Each decodes
	// to a struct of up to some 400 bytes that policies then walk: a 3
	// MiB review of a million empty volumeMounts, ports, tolerations or
	// environment variables took 340 to 520 MB of the webhook's memory
	// each, and four at once 1.4 GB and 12 s. A pod's own objects average
	// well over 24 bytes (an environment variable with a one-letter name
	// and value), so 65536 is more than twice what a 1.5 MiB pod, the
	// most etcd stores, can hold; the abuse suite's 3 MB review of 25,000
	// variables stays under it.
	MaxReviewObjects = 1 << 16
)

// tooManyError is a pod past the limits.
type tooManyError struct{ msg string }

func (e *tooManyError) Error() string { return e.msg }

// checkPod is the error of a decoded pod at path past the limits, or
// nil. The bound on a review's objects comes first (boundedReview), so
// that what is decoded here is at most MaxReviewObjects structs.
func checkPod(pod *corev1.Pod, path string) error {
	if pod == nil {
		return nil
	}
	if n := len(pod.Spec.Containers) + len(pod.Spec.InitContainers) + len(pod.Spec.EphemeralContainers); n > MaxPodContainers {
		return &tooManyError{fmt.Sprintf("%s.spec: Too many: %d: must have at most %d containers, init containers and ephemeral containers together", path, n, MaxPodContainers)}
	}
	if n := len(pod.Spec.Volumes); n > MaxPodVolumes {
		return &tooManyError{fmt.Sprintf("%s.spec.volumes: Too many: %d: must have at most %d items", path, n, MaxPodVolumes)}
	}
	return nil
}

// reviewShape is a review whose objects are skipped, only their
// presence kept (a struct{} takes no memory).
type reviewShape struct {
	metav1.TypeMeta `json:",inline"`
	Request         *struct {
		admissionv1.AdmissionRequest `json:",inline"`
		Object                       *struct{} `json:"object"`
		OldObject                    *struct{} `json:"oldObject"`
	} `json:"request,omitempty"`
}

// boundedReview returns the review of body without its objects when it
// holds more than MaxReviewObjects JSON objects (each object then holds
// the error, which decide answers when the request is one it decides);
// nil when the body is to be decoded whole. bytes.Count is much cheaper
// than the count outside strings, which only a body with that many '{'
// needs.
func boundedReview(body []byte) *reviewIn {
	if bytes.Count(body, []byte("{")) <= MaxReviewObjects {
		return nil
	}
	n := countObjects(body)
	if n <= MaxReviewObjects {
		return nil
	}
	var shape reviewShape
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, &shape); err != nil || shape.Request == nil {
		// The whole decoding reports a malformed review; one whose
		// types are wrong does not decode into large lists either.
		return nil
	}
	r := shape.Request
	err := &tooManyError{fmt.Sprintf("request: Too many: %d: must have at most %d JSON objects in the object and oldObject together", n, MaxReviewObjects)}
	return &reviewIn{TypeMeta: shape.TypeMeta, Request: &requestIn{AdmissionRequest: r.AdmissionRequest,
		Object:    podObject{err: err, present: r.Object != nil},
		OldObject: podObject{err: err, present: r.OldObject != nil}}}
}

// reviewed reports a request decide judges: the creation or update of a
// pod, or of its ephemeral containers.
func reviewed(req *admissionv1.AdmissionRequest) bool {
	if req.Resource.Group != "" || req.Resource.Resource != "pods" ||
		req.SubResource != "" && req.SubResource != admission.SubResourceEphemeralContainers {
		return false
	}
	op := admission.Operation(req.Operation)
	return op == admission.Create || op == admission.Update
}

// countObjects counts the JSON objects of body, a valid JSON text: the
// '{' outside strings (the review's own few included).
func countObjects(body []byte) int {
	n, inString := 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == '{':
			n++
		}
	}
	return n
}

// errBudget is a body that would take the bodies being read past their
// budget.
var errBudget = errors.New("review bodies over budget")

// bodyBudget bounds the bytes held by the request bodies being read: a
// body takes its bytes as they arrive, so a client holds only what it
// sent, and gives them back once its review is answered. As much as the
// in-flight reviews' largest bodies lets the API server's bursts in: a
// slow sender must send that much to starve anyone, and the bodies of a
// flood that will be answered 429 hold no more than that (the abuse
// suite's 50 reviews of 3 MB peaked at 150 MiB, under the 128 MiB soft
// limit's collector; at 69 MiB before, when they were not buffered).
type bodyBudget struct {
	used atomic.Int64
	max  int64
}

// budgetReader reads r, taking from b what it reads.
type budgetReader struct {
	r    io.Reader
	b    *bodyBudget
	held int64
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if n > 0 {
		if br.b.used.Add(int64(n)) > br.b.max {
			br.b.used.Add(-int64(n))
			return 0, errBudget
		}
		br.held += int64(n)
	}
	return n, err
}

// release gives back what was read.
func (br *budgetReader) release() {
	br.b.used.Add(-br.held)
	br.held = 0
}
