package webhook

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/policy/admission"
	"github.com/podsec/podsec/policy/rbac"
	"github.com/podsec/podsec/store"
)

// Handler answers AdmissionReviews with the objects of a store.
type Handler struct {
	store *store.Store
	// slots holds one token per review being decided: its capacity is
	// the in-flight limit.
	slots chan struct{}
	// workers decide the reviews, on stacks grown by earlier ones.
	workers *workers
	// bodies bounds the bytes of the bodies being read.
	bodies *bodyBudget
	mu     sync.Mutex // serializes log lines
	log    io.Writer
}

// NewHandler returns the handler of /mutate, /validate and /healthz for
// cfg; the server's TLS settings are Serve's.
func NewHandler(cfg Config) *Handler {
	return &Handler{store: cfg.Store, slots: make(chan struct{}, cfg.maxInflight()), workers: newWorkers(cfg.maxInflight()), log: cfg.log(),
		bodies: &bodyBudget{max: int64(cfg.maxInflight() * MaxReviewBytes)}}
}

var _ http.Handler = (*Handler)(nil)

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/mutate":
		h.review(w, r, admission.Mutating)
	case "/validate":
		h.review(w, r, admission.Validating)
	case "/healthz":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httpError(w, http.StatusMethodNotAllowed, "method %s not allowed on /healthz", r.Method)
			return
		}
		fmt.Fprintln(w, "ok")
	default:
		httpError(w, http.StatusNotFound, "no such path %q: POST AdmissionReviews to /mutate or /validate", r.URL.Path)
	}
}

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	http.Error(w, fmt.Sprintf(format, args...), code)
}

// lingerReadWait bounds lingerAfterRefusal's wait for the client's next
// byte.
const lingerReadWait = 20 * time.Millisecond

// lingerAfterRefusal has an HTTP/1.x connection whose request body is
// refused before it is all read close as the server closes one past
// http.MaxBytesReader's limit: the answer written, it half-closes and
// waits (net/http's 500 ms) before it closes. A connection closed with
// the client's bytes unread is reset, and a client still sending its body
// (one that asked for Connection: close, as each client of a flood does)
// got ECONNRESET on its write, never the 429 or 413 (TestWebhookFlood:
// one of 50 clients in most runs). The byte that tells the server so is
// waited for at most lingerReadWait (a deadline of now would not read
// what the socket holds: Go checks the deadline before it reads): a
// client sending slowly is closed at once, as before.
func lingerAfterRefusal(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 1 {
		return // HTTP/2 ends the stream alone (RST_STREAM)
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(lingerReadWait)) != nil {
		return
	}
	var one [1]byte
	_, _ = http.MaxBytesReader(w, r.Body, 0).Read(one[:])
}

// review reads one AdmissionReview, decides it and writes the answer.
// Problems with the HTTP request itself are HTTP errors; a review the
// webhook cannot decide (the store cannot be read) is a 500, so that the
// webhook configuration's failurePolicy applies.
func (h *Handler) review(w http.ResponseWriter, r *http.Request, phase admission.Phase) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "method %s not allowed: POST an AdmissionReview", r.Method)
		return
	}
	if !jsonContent(r.Header) {
		httpError(w, http.StatusUnsupportedMediaType, "content type %q not supported: want application/json", r.Header.Get("Content-Type"))
		return
	}
	if r.ContentLength > MaxReviewBytes {
		lingerAfterRefusal(w, r)
		httpError(w, http.StatusRequestEntityTooLarge, "request body of %d bytes is larger than the limit of %d", r.ContentLength, MaxReviewBytes)
		return
	}
	// The body is read before a slot is taken: a client that sends
	// headers and then its body slowly, or never, held a slot until the
	// read timeout, and as many such clients as slots made every other
	// review 429. Bodies being read are bounded by the bytes they hold
	// (bodyBudget), which a client must send to take.
	in := getBuffer()
	defer putBuffer(in)
	held := &budgetReader{r: http.MaxBytesReader(w, r.Body, MaxReviewBytes), b: h.bodies}
	defer held.release()
	body, err := readBody(r, in, held)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			httpError(w, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", MaxReviewBytes)
		case errors.Is(err, errBudget):
			held.release()
			lingerAfterRefusal(w, r)
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusTooManyRequests, "too many review bodies being read (%d MiB): retry later", h.bodies.max>>20)
		default:
			httpError(w, http.StatusBadRequest, "reading the request body: %v", err)
		}
		return
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusTooManyRequests, "too many reviews in flight (%d): retry later", cap(h.slots))
		return
	}
	h.workers.run(func() { h.answer(w, body, phase) })
}

// answer decides and answers a review once its slot is taken.
func (h *Handler) answer(w http.ResponseWriter, body []byte, phase admission.Phase) {
	var err error
	review := boundedReview(body)
	if review == nil {
		if review, err = decodeReview(body); err != nil {
			httpError(w, http.StatusBadRequest, "malformed AdmissionReview: %v", err)
			return
		}
	}
	if gvk := review.GroupVersionKind(); gvk != admissionv1.SchemeGroupVersion.WithKind("AdmissionReview") {
		httpError(w, http.StatusBadRequest, "unsupported object %q of apiVersion %q: want an AdmissionReview of admission.k8s.io/v1", gvk.Kind, gvk.GroupVersion())
		return
	}
	if review.Request == nil || review.Request.UID == "" {
		httpError(w, http.StatusBadRequest, "malformed AdmissionReview: no request or no request.uid")
		return
	}
	resp, err := h.decide(review.Request, phase)
	if err != nil {
		h.logf("%s %s: %v", phaseName(phase), review.Request.UID, err)
		httpError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	resp.UID = review.Request.UID
	out := getBuffer()
	defer putBuffer(out)
	if err := encodeReview(out, review.TypeMeta, resp); err != nil {
		httpError(w, http.StatusInternalServerError, "encoding the AdmissionReview: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	_, _ = w.Write(out.Bytes())
}

// decide answers one request. Anything but the creation or update of a
// pod, or the update of its ephemeral containers ("kubectl debug", whose
// object is the whole pod), is allowed untouched, as PodSecurityPolicy and
// PodSecurity ignored it: the other subresources (status, binding, ...) do
// not change what runs.
func (h *Handler) decide(req *requestIn, phase admission.Phase) (*admissionv1.AdmissionResponse, error) {
	if !reviewed(&req.AdmissionRequest) {
		return &admissionv1.AdmissionResponse{Allowed: true}, nil
	}
	op := admission.Operation(req.Operation)
	for _, o := range []*podObject{&req.Object, &req.OldObject} {
		var tm *tooManyError
		if errors.As(o.err, &tm) {
			return refusal(http.StatusRequestEntityTooLarge, tm.msg), nil
		}
	}
	if err := cmp.Or(checkPod(req.Object.pod, "request.object"), checkPod(req.OldObject.pod, "request.oldObject")); err != nil {
		return refusal(http.StatusRequestEntityTooLarge, err.Error()), nil
	}
	pod := req.Object.pod
	if pod == nil {
		return refusal(http.StatusBadRequest, fmt.Sprintf("request.object is not a pod: %v", errOrEmpty(req.Object.err))), nil
	}
	if pod.Namespace == "" {
		pod.Namespace = req.Namespace
	}
	var old *corev1.Pod
	if op == admission.Update && req.OldObject.present {
		if old = req.OldObject.pod; old == nil {
			return refusal(http.StatusBadRequest, fmt.Sprintf("request.oldObject is not a pod: %v", req.OldObject.err)), nil
		}
	}
	// Read from disk once per store generation: a change applied by any
	// process is seen by the next review.
	objs, err := h.store.AdmissionObjects()
	if err != nil {
		return nil, err
	}
	requester := rbac.UserInfo{Name: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	// The one admission of podsec admit and run (pipeline.Admit).
	res := pipeline.Admit(admission.Request{Pod: pod, OldPod: old, Namespace: req.Namespace, User: requester, Operation: op, Phase: phase, SubResource: req.SubResource}, objs)
	// A refusal's text lists every policy's errors: it is made once,
	// for the log line and the answer.
	refused := ""
	if !res.Allowed {
		refused = res.Err.Error()
	}
	if h.log != io.Discard {
		h.logDecision(phase, op, req, pod, requester.Name, res, refused)
	}

	resp := &admissionv1.AdmissionResponse{Allowed: res.Allowed, Warnings: res.Warnings, AuditAnnotations: webhookAuditAnnotations(res.AuditAnnotations)}
	if !res.Allowed {
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: refused}
		return resp, nil
	}
	if phase == admission.Mutating && op == admission.Create {
		patch, err := admission.Patch(pod, res.Pod)
		if err != nil {
			return nil, err
		}
		if string(patch) != "[]" {
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = patch, &pt
		}
	}
	return resp, nil
}

func refusal(code int32, msg string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Result: &metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: metav1.StatusReasonBadRequest, Message: msg}}
}

func errOrEmpty(err error) string {
	if err == nil {
		return "empty"
	}
	return err.Error()
}

// webhookAuditAnnotations gives the audit annotation keys without their
// prefix: the API server prefixes a webhook's keys with the webhook's name
// ("psp.podsec.io/admit-policy") and drops keys that are then not valid
// qualified names, as "NAME/podsecuritypolicy.policy.k8s.io/admit-policy"
// would not be.
func webhookAuditAnnotations(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k[strings.LastIndex(k, "/")+1:]] = v
	}
	return out
}

// logDecision logs a review's decision: "podsec webhook: mutate CREATE pod
// team/web by "alice": allowed by podsecuritypolicy "default"". The line
// is appended to a pooled buffer rather than formatted by fmt: one is
// written per review.
func (h *Handler) logDecision(phase admission.Phase, op admission.Operation, req *requestIn, pod *corev1.Pod, user string, res admission.Result, refused string) {
	buf := getBuffer()
	defer putBuffer(buf)
	b := append(buf.AvailableBuffer(), "podsec webhook: "...)
	b = append(append(append(b, phaseName(phase)...), ' '), op...)
	b = append(appendLogText(append(b, " pod "...), req.Namespace), '/')
	b = appendLogText(appendLogText(b, podLabel(pod, req.Name)), subresourceLabel(req.SubResource))
	b = strconv.AppendQuote(append(b, " by "...), user)
	b = append(b, ": "...)
	switch {
	case !res.Allowed:
		b = appendLogText(append(b, "refused: "...), refused)
	case res.Policy != "":
		b = strconv.AppendQuote(append(b, "allowed by podsecuritypolicy "...), res.Policy)
	default:
		b = append(b, "allowed"...)
	}
	b = append(b, '\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, _ = h.log.Write(b)
}

func (h *Handler) logf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	line := appendLogText([]byte("podsec webhook: "), fmt.Sprintf(format, args...))
	_, _ = h.log.Write(append(line, '\n'))
}

// appendLogText appends s with what could end or fake a log line escaped
// as Go escapes it in a quoted string: control characters (a newline in
// a pod's name, which the API server sends to a mutating webhook before
// validating it, wrote a second line of the attacker's choosing), DEL,
// U+0085, U+2028 and U+2029, and bytes that are not UTF-8. Text without
// them, as every valid name is, is appended as it is.
func appendLogText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if c >= 0x80 && r != utf8.RuneError && r != 0x85 && r != 0x2028 && r != 0x2029 {
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		q := strconv.QuoteToASCII(s[i : i+size])
		b = append(b, q[1:len(q)-1]...)
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

func phaseName(p admission.Phase) string {
	if p == admission.Mutating {
		return "mutate"
	}
	return "validate"
}

// podLabel names a pod being created with generateName, whose request has
// no name yet.
func podLabel(pod *corev1.Pod, name string) string {
	switch {
	case name != "":
		return name
	case pod.Name != "":
		return pod.Name
	}
	return pod.GenerateName + "*"
}

// subresourceLabel is "/ephemeralcontainers" for a request on that
// subresource.
func subresourceLabel(sub string) string {
	if sub == "" {
		return ""
	}
	return "/" + sub
}

// jsonContent reports a Content-Type of application/json. The API server's
// exact one is looked up in the map as the server stored it: Header.Get
// canonicalizes the key, deep enough on a request's fresh goroutine to
// grow its stack.
func jsonContent(h http.Header) bool {
	if v := h["Content-Type"]; len(v) > 0 && v[0] == "application/json" {
		return true
	}
	ct, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && ct == "application/json"
}

// readBody reads a request body from r into buf, grown at once to the
// announced size up to pooledBufferMax (the usual review): past it, the
// buffer grows with what arrives, so that a client announcing 3 MiB and
// sending nothing holds no 3 MiB buffer.
func readBody(r *http.Request, buf *bytes.Buffer, body io.Reader) ([]byte, error) {
	if r.ContentLength > 0 {
		buf.Grow(int(min(r.ContentLength, pooledBufferMax)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(body)
	return buf.Bytes(), err
}

// decodeReview decodes a review. Most reviews are of pods, whose objects
// decode as pods: they are decoded in one pass into reviewPods. Others,
// and a review that is not valid JSON, go through reviewIn, which keeps
// an object that is not a pod for decide to answer: the objects are then
// scanned twice more, as a json.Unmarshaler gets them.
func decodeReview(body []byte) (*reviewIn, error) {
	fast := &reviewPods{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, fast); err == nil {
		review := &reviewIn{TypeMeta: fast.TypeMeta}
		if r := fast.Request; r != nil {
			review.Request = &requestIn{AdmissionRequest: r.AdmissionRequest,
				Object:    podObject{pod: r.Object, present: r.Object != nil},
				OldObject: podObject{pod: r.OldObject, present: r.OldObject != nil}}
		}
		return review, nil
	}
	review := &reviewIn{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, review); err != nil {
		return nil, err
	}
	return review, nil
}

// reviewPods is an AdmissionReview whose objects are pods, or null.
type reviewPods struct {
	metav1.TypeMeta `json:",inline"`
	Request         *struct {
		admissionv1.AdmissionRequest `json:",inline"`
		Object                       *corev1.Pod `json:"object"`
		OldObject                    *corev1.Pod `json:"oldObject"`
	} `json:"request,omitempty"`
}

// reviewIn is an AdmissionReview as the webhook reads it: the request's
// objects are decoded into pods straight from the body, with no raw copy
// of them kept alongside.
type reviewIn struct {
	metav1.TypeMeta `json:",inline"`
	Request         *requestIn `json:"request,omitempty"`
}

// requestIn is an AdmissionRequest whose objects are pods; its Object and
// OldObject hide the embedded request's raw ones.
type requestIn struct {
	admissionv1.AdmissionRequest `json:",inline"`
	Object                       podObject `json:"object"`
	OldObject                    podObject `json:"oldObject"`
}

// podObject is request.object or request.oldObject decoded as a pod. An
// object that is not a pod is not an error of the review: requests for
// other resources are allowed whatever their object, and a pods request
// with one is refused with 400 in the response.
type podObject struct {
	pod     *corev1.Pod
	err     error
	present bool
}

// UnmarshalJSON decodes the object, keeping the error for decide.
func (o *podObject) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	o.present, o.pod = true, &corev1.Pod{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, o.pod); err != nil {
		o.pod, o.err = nil, err
	}
	return nil
}
