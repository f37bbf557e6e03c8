package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"

	"github.com/podsec/podsec/policy/admission"
	"github.com/podsec/podsec/policy/rbac"
	"github.com/podsec/podsec/store"
)

// Limits of the webhook server. The API server's default webhook timeout is
// 10s and its request bodies are a pod and the old pod: 3 MiB is well
// above the 1.5 MiB an etcd object may have, twice.
const (
	maxReviewBytes    = 3 << 20
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 90 * time.Second
	shutdownTimeout   = 10 * time.Second
)

func newWebhookCommand(g *globals) *cobra.Command {
	var listen, certFile, keyFile, objectsDir, kubeconfig string
	cmd := &cobra.Command{
		Use:   "webhook --tls-cert-file FILE --tls-private-key-file FILE [--listen ADDR] [--objects-dir DIR]",
		Short: "serve PodSecurityPolicy admission to a Kubernetes cluster as an admission webhook",
		Long: `webhook serves admission.k8s.io/v1 AdmissionReviews for pods over HTTPS, so that
a Kubernetes cluster of 1.25 or later, which no longer has PodSecurityPolicy,
admits pods as a 1.24 cluster did:

  POST /mutate    for a MutatingWebhookConfiguration (pods, CREATE): picks the
                  policy, answers with the JSON Patch of its defaults and the
                  kubernetes.io/psp annotation;
  POST /validate  for a ValidatingWebhookConfiguration (pods, CREATE and
                  UPDATE; pods/ephemeralcontainers, UPDATE, as "kubectl
                  debug" adds containers): the pod must be admitted unchanged
                  by a policy the requester or its service account may use,
                  and must meet the Pod Security Standards of its namespace's
                  labels, if any Namespace is stored;
  GET  /healthz   for probes.

The requester is the request's userInfo, the namespace the request's. The
policies, RBAC roles and bindings and namespaces are those stored under
--objects-dir (default: --root), exported from the cluster and stored with
"podsec apply"; they are read again for every request. A refusal is
allowed: false with code 403 and the API server's message; warnings and audit
annotations go in the response. See deploy/webhook/README.md.`,
		Example: `  # Serve the objects exported from the cluster into /srv/podsec
  podsec apply --root /srv/podsec -f psp.yaml -f rbac.yaml
  podsec webhook --objects-dir /srv/podsec --listen :8443 \
    --tls-cert-file /etc/podsec/tls.crt --tls-private-key-file /etc/podsec/tls.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kubeconfig != "" {
				return errors.New("--kubeconfig is not supported: use --objects-dir with objects exported from the cluster (kubectl get psp,clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml | podsec apply --root DIR -f -)")
			}
			if objectsDir == "" {
				objectsDir = g.root
			}
			st, err := store.Open(objectsDir)
			if err != nil {
				return err
			}
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return fmt.Errorf("loading the TLS key pair: %w", err)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "podsec webhook: serving https://%s (/mutate, /validate) with the objects of %s\n", ln.Addr(), objectsDir)
			return serveWebhook(ctx, ln, cert, newWebhookHandler(st, stderr), stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", ":8443", "address to serve HTTPS on")
	f.StringVar(&certFile, "tls-cert-file", "", "PEM certificate (chain) of the server")
	f.StringVar(&keyFile, "tls-private-key-file", "", "PEM private key of the certificate")
	f.StringVar(&objectsDir, "objects-dir", "", "state root whose stored objects the webhook decides with (default: --root)")
	f.StringVar(&kubeconfig, "kubeconfig", "", "not supported: use --objects-dir")
	_ = cmd.MarkFlagRequired("tls-cert-file")
	_ = cmd.MarkFlagRequired("tls-private-key-file")
	return cmd
}

// serveWebhook serves h over TLS 1.2+ on ln until ctx ends, then shuts the
// server down, letting requests in flight finish.
func serveWebhook(ctx context.Context, ln net.Listener, cert tls.Certificate, h http.Handler, errLog io.Writer) error {
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(errLog, "podsec webhook: ", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting the webhook down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// webhookHandler answers AdmissionReviews with the objects of a store.
type webhookHandler struct {
	store *store.Store
	mu    sync.Mutex // serializes log lines
	log   io.Writer
}

func newWebhookHandler(st *store.Store, log io.Writer) *webhookHandler {
	return &webhookHandler{store: st, log: log}
}

var _ http.Handler = (*webhookHandler)(nil)

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

// review reads one AdmissionReview, decides it and writes the answer.
// Problems with the HTTP request itself are HTTP errors; a review the
// webhook cannot decide (the store cannot be read) is a 500, so that the
// webhook configuration's failurePolicy applies.
func (h *webhookHandler) review(w http.ResponseWriter, r *http.Request, phase admission.Phase) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "method %s not allowed: POST an AdmissionReview", r.Method)
		return
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		httpError(w, http.StatusUnsupportedMediaType, "content type %q not supported: want application/json", r.Header.Get("Content-Type"))
		return
	}
	if r.ContentLength > maxReviewBytes {
		httpError(w, http.StatusRequestEntityTooLarge, "request body of %d bytes is larger than the limit of %d", r.ContentLength, maxReviewBytes)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxReviewBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpError(w, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", maxReviewBytes)
			return
		}
		httpError(w, http.StatusBadRequest, "reading the request body: %v", err)
		return
	}
	review := &admissionv1.AdmissionReview{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, review); err != nil {
		httpError(w, http.StatusBadRequest, "malformed AdmissionReview: %v", err)
		return
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
	out, err := json.Marshal(&admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp})
	if err != nil {
		httpError(w, http.StatusInternalServerError, "encoding the AdmissionReview: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// decide answers one request. Anything but the creation or update of a
// pod, or the update of its ephemeral containers ("kubectl debug", whose
// object is the whole pod), is allowed untouched, as PodSecurityPolicy and
// PodSecurity ignored it: the other subresources (status, binding, ...) do
// not change what runs.
func (h *webhookHandler) decide(req *admissionv1.AdmissionRequest, phase admission.Phase) (*admissionv1.AdmissionResponse, error) {
	allowed := &admissionv1.AdmissionResponse{Allowed: true}
	if req.Resource.Group != "" || req.Resource.Resource != "pods" ||
		req.SubResource != "" && req.SubResource != admission.SubResourceEphemeralContainers {
		return allowed, nil
	}
	op := admission.Operation(req.Operation)
	if op != admission.Create && op != admission.Update {
		return allowed, nil
	}
	pod := &corev1.Pod{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Object.Raw, pod); err != nil || len(req.Object.Raw) == 0 {
		return refusal(http.StatusBadRequest, fmt.Sprintf("request.object is not a pod: %v", errOrEmpty(err))), nil
	}
	if pod.Namespace == "" {
		pod.Namespace = req.Namespace
	}
	var old *corev1.Pod
	if op == admission.Update && len(req.OldObject.Raw) > 0 {
		old = &corev1.Pod{}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(req.OldObject.Raw, old); err != nil {
			return refusal(http.StatusBadRequest, fmt.Sprintf("request.oldObject is not a pod: %v", err)), nil
		}
	}
	snap, err := h.store.Snapshot()
	if err != nil {
		return nil, err
	}
	requester := rbac.UserInfo{Name: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	res := admission.Admit(admission.Request{Pod: pod, OldPod: old, Namespace: req.Namespace, User: requester, Operation: op, Phase: phase, SubResource: req.SubResource}, objectsOf(snap))
	h.logf("%s %s pod %s/%s%s by %q: %s", phaseName(phase), op, req.Namespace, podLabel(pod, req.Name), subresourceLabel(req.SubResource), requester.Name, outcome(res))

	resp := &admissionv1.AdmissionResponse{Allowed: res.Allowed, Warnings: res.Warnings, AuditAnnotations: webhookAuditAnnotations(res.AuditAnnotations)}
	if !res.Allowed {
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: res.Err.Error()}
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

func (h *webhookHandler) logf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.log, "podsec webhook: "+format+"\n", args...)
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

func outcome(res admission.Result) string {
	switch {
	case !res.Allowed:
		return "refused: " + res.Err.Error()
	case res.Policy != "":
		return fmt.Sprintf("allowed by podsecuritypolicy %q", res.Policy)
	}
	return "allowed"
}
