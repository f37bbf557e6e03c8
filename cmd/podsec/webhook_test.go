package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/store"
	"github.com/podsec/podsec/webhook"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "podsec-webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// webhookServer serves the objects of root on a loopback port and returns
// its base URL and a client that trusts it.
func webhookServer(t *testing.T, root string) (string, *http.Client) {
	t.Helper()
	certFile, keyFile, pool := selfSigned(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- webhook.Serve(ctx, ln, webhook.Config{Store: st, Cert: cert}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("webhook.Serve() = %v", err)
		}
	})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return "https://" + ln.Addr().String(), client
}

func reviewOf(t *testing.T, op admissionv1.Operation, ns string, user authenticationv1.UserInfo, pod, old string) []byte {
	t.Helper()
	req := &admissionv1.AdmissionRequest{
		UID: "uid-1", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: ns, Operation: op, UserInfo: user, Object: runtime.RawExtension{Raw: []byte(pod)},
	}
	if old != "" {
		req.OldObject = runtime.RawExtension{Raw: []byte(old)}
	}
	b, err := json.Marshal(&admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: req})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	webhookPod        = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"team","labels":{"app":"web"}},"spec":{"containers":[{"name":"main","image":"kubia","resources":{"limits":{"cpu":"500m"}}}],"securityContext":{}}}`
	webhookPrivileged = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"team"},"spec":{"containers":[{"name":"main","image":"kubia","securityContext":{"privileged":true}}]}}`
)

func TestWebhook(t *testing.T) {
	c := newCLI(t)
	c.ok(seedPSP, "apply", "-f", "-")
	c.ok("", "create", "clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=default")
	c.ok("", "create", "clusterrolebinding", "psp-alice", "--clusterrole=psp-default", "--user=alice")
	c.ok("apiVersion: v1\nkind: Namespace\nmetadata: {name: warned, labels: {pod-security.kubernetes.io/warn: restricted}}\n", "apply", "-f", "-")
	c.ok("apiVersion: v1\nkind: Namespace\nmetadata: {name: baseline, labels: {pod-security.kubernetes.io/enforce: baseline}}\n", "apply", "-f", "-")
	base, client := webhookServer(t, c.root)
	alice := authenticationv1.UserInfo{Username: "alice", Groups: []string{"system:authenticated"}}
	bob := authenticationv1.UserInfo{Username: "bob", Groups: []string{"system:authenticated"}}

	post := func(path string, body []byte) *admissionv1.AdmissionResponse {
		t.Helper()
		resp, err := client.Post(base+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("POST %s: %s %q: %s", path, resp.Status, resp.Header.Get("Content-Type"), data)
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(data, &review); err != nil || review.Response == nil || review.Kind != "AdmissionReview" || review.APIVersion != "admission.k8s.io/v1" {
			t.Fatalf("POST %s: not an AdmissionReview response: %v: %s", path, err, data)
		}
		if review.Response.UID != "uid-1" {
			t.Errorf("POST %s: response uid %q, want uid-1", path, review.Response.UID)
		}
		return review.Response
	}

	t.Run("mutate allows with a patch", func(t *testing.T) {
		r := post("/mutate", reviewOf(t, admissionv1.Create, "team", alice, webhookPod, ""))
		if !r.Allowed || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
			t.Fatalf("POST /mutate: allowed %v, patch type %v, result %+v", r.Allowed, r.PatchType, r.Result)
		}
		patched := applyJSONPatch(t, []byte(webhookPod), r.Patch)
		var pod corev1.Pod
		if err := json.Unmarshal(patched, &pod); err != nil {
			t.Fatalf("patched pod: %v: %s", err, patched)
		}
		if pod.Annotations["kubernetes.io/psp"] != "default" || pod.Spec.Containers[0].SecurityContext == nil ||
			pod.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem == nil || !*pod.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem {
			t.Errorf("POST /mutate: patch %s gives %s", r.Patch, patched)
		}
		if pod.Labels["app"] != "web" || pod.Spec.Containers[0].Resources.Limits.Cpu().String() != "500m" {
			t.Errorf("POST /mutate: patch %s changed what it should not: %s", r.Patch, patched)
		}
		if want := map[string]string{"admit-policy": "default"}; !reflect.DeepEqual(r.AuditAnnotations, want) {
			t.Errorf("POST /mutate: audit annotations %v, want %v", r.AuditAnnotations, want)
		}
		// The validating webhook then sees the patched pod.
		v := post("/validate", reviewOf(t, admissionv1.Create, "team", alice, string(patched), ""))
		if !v.Allowed || v.Patch != nil || v.AuditAnnotations["validate-policy"] != "default" {
			t.Errorf("POST /validate of the patched pod: allowed %v, patch %s, audit %v, result %+v", v.Allowed, v.Patch, v.AuditAnnotations, v.Result)
		}
	})
	t.Run("refused with 403", func(t *testing.T) {
		r := post("/mutate", reviewOf(t, admissionv1.Create, "team", alice, webhookPrivileged, ""))
		want := `pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`
		if r.Allowed || r.Result == nil || r.Result.Code != 403 || r.Result.Reason != metav1.StatusReasonForbidden || r.Result.Message != want || r.Patch != nil {
			t.Errorf("POST /mutate privileged: allowed %v, result %+v; want 403 %q", r.Allowed, r.Result, want)
		}
	})
	t.Run("requester from userInfo", func(t *testing.T) {
		r := post("/mutate", reviewOf(t, admissionv1.Create, "team", bob, webhookPod, ""))
		if want := `pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: []`; r.Allowed || r.Result == nil || r.Result.Message != want {
			t.Errorf("POST /mutate as bob: allowed %v, result %+v; want %q", r.Allowed, r.Result, want)
		}
	})
	t.Run("validate refuses an unmutated pod", func(t *testing.T) {
		r := post("/validate", reviewOf(t, admissionv1.Create, "team", alice, webhookPod, ""))
		if r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, "unable to validate pod") {
			t.Errorf("POST /validate unmutated: allowed %v, result %+v", r.Allowed, r.Result)
		}
	})
	t.Run("warnings", func(t *testing.T) {
		pod := strings.Replace(webhookPod, `"namespace":"team"`, `"namespace":"warned"`, 1)
		mut := post("/mutate", reviewOf(t, admissionv1.Create, "warned", alice, pod, ""))
		if !mut.Allowed || len(mut.Warnings) != 0 {
			t.Fatalf("POST /mutate in warned: allowed %v, warnings %q (the validating phase warns)", mut.Allowed, mut.Warnings)
		}
		r := post("/validate", reviewOf(t, admissionv1.Create, "warned", alice, string(applyJSONPatch(t, []byte(pod), mut.Patch)), ""))
		if !r.Allowed || len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], `would violate PodSecurity "restricted:latest": `) {
			t.Errorf("POST /validate in warned: allowed %v, warnings %q", r.Allowed, r.Warnings)
		}
		if r.AuditAnnotations["enforce-policy"] != "privileged:latest" {
			t.Errorf("POST /validate in warned: audit annotations %v", r.AuditAnnotations)
		}
	})
	t.Run("update is validated, not mutated", func(t *testing.T) {
		mut := post("/mutate", reviewOf(t, admissionv1.Create, "team", alice, webhookPod, ""))
		old := string(applyJSONPatch(t, []byte(webhookPod), mut.Patch))
		upd := strings.Replace(old, `"image":"kubia"`, `"image":"kubia:v2"`, 1)
		if r := post("/mutate", reviewOf(t, admissionv1.Update, "team", alice, upd, old)); !r.Allowed || r.Patch != nil {
			t.Errorf("POST /mutate UPDATE: allowed %v, patch %s", r.Allowed, r.Patch)
		}
		if r := post("/validate", reviewOf(t, admissionv1.Update, "team", alice, upd, old)); !r.Allowed {
			t.Errorf("POST /validate UPDATE: refused %+v", r.Result)
		}
		priv := strings.Replace(upd, `"name":"main",`, `"name":"main","securityContext":{"privileged":true},`, 1)
		if r := post("/validate", reviewOf(t, admissionv1.Update, "team", alice, priv, old)); r.Allowed {
			t.Error("POST /validate UPDATE to a privileged pod: allowed, want refused")
		}
	})
	t.Run("other resources are allowed", func(t *testing.T) {
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(reviewOf(t, admissionv1.Create, "team", bob, webhookPrivileged, ""), &review); err != nil {
			t.Fatal(err)
		}
		review.Request.SubResource = "status"
		body, err := json.Marshal(&review)
		if err != nil {
			t.Fatal(err)
		}
		if r := post("/mutate", body); !r.Allowed || r.Patch != nil {
			t.Errorf("POST /mutate pods/status: allowed %v, patch %s", r.Allowed, r.Patch)
		}
		if r := post("/validate", reviewOf(t, admissionv1.Delete, "team", bob, webhookPrivileged, "")); !r.Allowed {
			t.Errorf("POST /validate DELETE: refused %+v", r.Result)
		}
	})
	t.Run("ephemeral containers", func(t *testing.T) {
		// The running pod, as the mutating webhook admitted it.
		mut := post("/mutate", reviewOf(t, admissionv1.Create, "team", alice, webhookPod, ""))
		old := string(applyJSONPatch(t, []byte(webhookPod), mut.Patch))
		for _, tc := range []struct {
			name, ns, container, wantMsg string
		}{
			{name: "privileged under the seed policy", ns: "team", container: ephemeralPrivileged,
				wantMsg: `pods "web" is forbidden: PodSecurityPolicy: unable to validate pod: [spec.ephemeralContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`},
			{name: "unprivileged under the seed policy", ns: "team", container: ephemeralReadOnly},
			{name: "privileged under baseline", ns: "baseline", container: ephemeralPrivileged,
				wantMsg: `pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged (container "debugger-x7k2p" must not set securityContext.privileged=true)`},
			{name: "unprivileged under baseline", ns: "baseline", container: ephemeralReadOnly},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := strings.Replace(old, `"namespace":"team"`, `"namespace":"`+tc.ns+`"`, 1)
				body := ephemeralReview(t, tc.ns, alice, withEphemeral(t, o, tc.container), o)
				if r := post("/mutate", body); !r.Allowed || r.Patch != nil {
					t.Errorf("POST /mutate pods/ephemeralcontainers: allowed %v, patch %s, result %+v; want allowed unchanged", r.Allowed, r.Patch, r.Result)
				}
				r := post("/validate", body)
				if tc.wantMsg == "" {
					if !r.Allowed {
						t.Errorf("POST /validate pods/ephemeralcontainers: refused %+v", r.Result)
					}
					return
				}
				if r.Allowed || r.Result == nil || r.Result.Code != 403 || r.Result.Message != tc.wantMsg {
					t.Errorf("POST /validate pods/ephemeralcontainers: allowed %v, result %+v; want 403 %q", r.Allowed, r.Result, tc.wantMsg)
				}
			})
		}
		t.Run("status and binding stay allowed", func(t *testing.T) {
			for _, sub := range []string{"status", "binding"} {
				body := ephemeralReview(t, "team", bob, withEphemeral(t, old, ephemeralPrivileged), old)
				body = bytes.Replace(body, []byte(`"subResource":"ephemeralcontainers"`), []byte(`"subResource":"`+sub+`"`), 1)
				if r := post("/validate", body); !r.Allowed {
					t.Errorf("POST /validate pods/%s: refused %+v", sub, r.Result)
				}
			}
		})
	})
	t.Run("object that is not a pod", func(t *testing.T) {
		r := post("/mutate", reviewOf(t, admissionv1.Create, "team", alice, `{"spec":{"containers":"nope"}}`, ""))
		if r.Allowed || r.Result == nil || r.Result.Code != 400 || !strings.Contains(r.Result.Message, "request.object is not a pod") {
			t.Errorf("POST /mutate with a bad object: allowed %v, result %+v", r.Allowed, r.Result)
		}
	})
}

func TestWebhookHTTPErrors(t *testing.T) {
	base, client := webhookServer(t, t.TempDir())
	valid := reviewOf(t, admissionv1.Create, "team", authenticationv1.UserInfo{Username: "alice"}, webhookPod, "")
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        []byte
		wantCode    int
		wantBodyIn  string
	}{
		{name: "valid", method: "POST", path: "/mutate", contentType: "application/json; charset=utf-8", body: valid, wantCode: 200, wantBodyIn: `"allowed":true`},
		{name: "malformed JSON", method: "POST", path: "/mutate", contentType: "application/json", body: []byte(`{"apiVersion": `), wantCode: 400, wantBodyIn: "malformed AdmissionReview"},
		{name: "wrong kind", method: "POST", path: "/validate", contentType: "application/json", body: []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}`),
			wantCode: 400, wantBodyIn: `want an AdmissionReview of admission.k8s.io/v1`},
		{name: "no request", method: "POST", path: "/validate", contentType: "application/json", body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`),
			wantCode: 400, wantBodyIn: "no request"},
		{name: "oversized", method: "POST", path: "/mutate", contentType: "application/json", body: bytes.Repeat([]byte(" "), webhook.MaxReviewBytes+1), wantCode: 413, wantBodyIn: "larger than the limit"},
		{name: "wrong method", method: "GET", path: "/mutate", wantCode: 405, wantBodyIn: "method GET not allowed"},
		{name: "wrong content type", method: "POST", path: "/validate", contentType: "text/plain", body: valid, wantCode: 415, wantBodyIn: `content type "text/plain" not supported`},
		{name: "unknown path", method: "POST", path: "/admit", contentType: "application/json", body: valid, wantCode: 404},
		{name: "health", method: "GET", path: "/healthz", wantCode: 200, wantBodyIn: "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantCode || !strings.Contains(string(data), tc.wantBodyIn) {
				t.Errorf("%s %s (%s): %d %q, want %d containing %q", tc.method, tc.path, tc.name, resp.StatusCode, data, tc.wantCode, tc.wantBodyIn)
			}
		})
	}
	// A chunked body (no Content-Length) over the limit is cut off too.
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte(" "), 1<<20)
		for range 4 {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	resp, err := client.Post(base+"/mutate", "application/json", pr)
	if err != nil {
		t.Fatalf("POST chunked 4 MiB: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST chunked 4 MiB: %s, want 413", resp.Status)
	}
	// TLS 1.1 is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(base + "/healthz"); err == nil {
		t.Error("GET /healthz over TLS 1.1 succeeded, want a handshake failure")
	}
}

func TestWebhookCommandErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"webhook", "--tls-cert-file", certFile, "--tls-private-key-file", keyFile, "--kubeconfig", "/root/.kube/config"},
			want: "--kubeconfig is not supported: use --objects-dir with objects exported from the cluster"},
		{args: []string{"webhook"}, want: `required flag(s) "tls-cert-file", "tls-private-key-file" not set`},
		{args: []string{"webhook", "--tls-cert-file", keyFile, "--tls-private-key-file", keyFile}, want: "loading the TLS key pair"},
		{args: []string{"webhook", "--tls-cert-file", certFile, "--tls-private-key-file", keyFile, "--listen", "127.0.0.1:" + strconv.Itoa(-1)}, want: "listen tcp"},
		{args: []string{"webhook", "--tls-cert-file", certFile, "--tls-private-key-file", keyFile, "--client-ca-file", keyFile}, want: "loading the client CA: no PEM certificate in"},
		{args: []string{"webhook", "--tls-cert-file", certFile, "--tls-private-key-file", keyFile, "--max-inflight", "-1"}, want: "--max-inflight -1: must not be negative"},
	}
	for _, tc := range tests {
		code, _, errs := podsec(t, "", tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("podsec %v: exit %d, stderr %q; want an error containing %q", tc.args, code, errs, tc.want)
		}
	}
}

// applyJSONPatch applies the add, remove and replace operations of a JSON
// Patch (RFC 6902) to a document, as the API server does with a webhook's
// patch.
func applyJSONPatch(t *testing.T, doc, patch []byte) []byte {
	t.Helper()
	if len(patch) == 0 {
		return doc
	}
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatalf("applyJSONPatch: document: %v", err)
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatalf("applyJSONPatch: patch %s: %v", patch, err)
	}
	for _, op := range ops {
		var value any
		if op.Op != "remove" {
			if err := json.Unmarshal(op.Value, &value); err != nil {
				t.Fatalf("applyJSONPatch: %s %s: value: %v", op.Op, op.Path, err)
			}
		}
		tokens := strings.Split(op.Path, "/")[1:]
		for i, tok := range tokens {
			tokens[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		}
		parent := root
		for _, tok := range tokens[:len(tokens)-1] {
			switch p := parent.(type) {
			case map[string]any:
				parent = p[tok]
			case []any:
				i, _ := strconv.Atoi(tok)
				parent = p[i]
			default:
				t.Fatalf("applyJSONPatch: %s %s: no parent %q", op.Op, op.Path, tok)
			}
		}
		last := tokens[len(tokens)-1]
		switch p := parent.(type) {
		case map[string]any:
			_, exists := p[last]
			switch {
			case op.Op == "add":
				p[last] = value
			case !exists:
				t.Fatalf("applyJSONPatch: %s %s: no such member", op.Op, op.Path)
			case op.Op == "replace":
				p[last] = value
			case op.Op == "remove":
				delete(p, last)
			}
		case []any:
			i, err := strconv.Atoi(last)
			if err != nil || i >= len(p) || op.Op != "replace" {
				t.Fatalf("applyJSONPatch: %s %s: unsupported on an array here", op.Op, op.Path)
			}
			p[i] = value
		default:
			t.Fatalf("applyJSONPatch: %s %s: parent is not a container", op.Op, op.Path)
		}
	}
	out, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeployManifests keeps the shipped webhook configurations valid and
// pointed at the handler's paths.
func TestDeployManifests(t *testing.T) {
	var mut admissionregistrationv1.MutatingWebhookConfiguration
	var val admissionregistrationv1.ValidatingWebhookConfiguration
	for file, obj := range map[string]any{"mutatingwebhookconfiguration.yaml": &mut, "validatingwebhookconfiguration.yaml": &val} {
		data, err := os.ReadFile(filepath.Join("../../deploy/webhook", file))
		if err != nil {
			t.Fatal(err)
		}
		// As the README's sed fills it in.
		data = bytes.ReplaceAll(data, []byte("CA_BUNDLE"), []byte(base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----"))))
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			t.Errorf("deploy/webhook/%s: %v", file, err)
		}
	}
	if len(mut.Webhooks) != 1 || *mut.Webhooks[0].ClientConfig.Service.Path != "/mutate" ||
		!reflect.DeepEqual(mut.Webhooks[0].Rules[0].Operations, []admissionregistrationv1.OperationType{admissionregistrationv1.Create}) {
		t.Errorf("deploy/webhook/mutatingwebhookconfiguration.yaml: %+v", mut.Webhooks)
	}
	if len(val.Webhooks) != 1 || *val.Webhooks[0].ClientConfig.Service.Path != "/validate" ||
		!reflect.DeepEqual(val.Webhooks[0].Rules[0].Operations, []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}) {
		t.Errorf("deploy/webhook/validatingwebhookconfiguration.yaml: %+v", val.Webhooks)
	}
	// "kubectl debug" goes through pods/ephemeralcontainers: both halves
	// must see it, or a privileged debug container is never checked.
	ephemeral := func(rules []admissionregistrationv1.RuleWithOperations) bool {
		for _, r := range rules {
			if slices.Contains(r.Resources, "pods/ephemeralcontainers") && slices.Contains(r.Operations, admissionregistrationv1.Update) {
				return true
			}
		}
		return false
	}
	if len(mut.Webhooks) == 1 && !ephemeral(mut.Webhooks[0].Rules) {
		t.Errorf("deploy/webhook/mutatingwebhookconfiguration.yaml: no rule for UPDATE of pods/ephemeralcontainers: %+v", mut.Webhooks[0].Rules)
	}
	if len(val.Webhooks) == 1 && !ephemeral(val.Webhooks[0].Rules) {
		t.Errorf("deploy/webhook/validatingwebhookconfiguration.yaml: no rule for UPDATE of pods/ephemeralcontainers: %+v", val.Webhooks[0].Rules)
	}
}

// The ephemeral containers "kubectl debug" adds: --profile=sysadmin asks for
// a privileged one; the other has what the seed policy would default.
const (
	ephemeralPrivileged = `{"name":"debugger-x7k2p","image":"busybox","stdin":true,"tty":true,"targetContainerName":"main","securityContext":{"privileged":true}}`
	ephemeralReadOnly   = `{"name":"debugger-x7k2p","image":"busybox","stdin":true,"tty":true,"targetContainerName":"main","securityContext":{"readOnlyRootFilesystem":true}}`
)

// withEphemeral adds an ephemeral container to a pod in JSON.
func withEphemeral(t *testing.T, pod, container string) string {
	t.Helper()
	var p map[string]any
	var c any
	if err := json.Unmarshal([]byte(pod), &p); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(container), &c); err != nil {
		t.Fatal(err)
	}
	p["spec"].(map[string]any)["ephemeralContainers"] = []any{c}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ephemeralReview is the AdmissionReview the API server sends for
// "kubectl debug": an UPDATE of pods/ephemeralcontainers with the whole pod.
func ephemeralReview(t *testing.T, ns string, user authenticationv1.UserInfo, pod, old string) []byte {
	t.Helper()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(reviewOf(t, admissionv1.Update, ns, user, pod, old), &review); err != nil {
		t.Fatal(err)
	}
	review.Request.SubResource = "ephemeralcontainers"
	review.Request.Name = "web"
	review.Request.RequestSubResource = "ephemeralcontainers"
	b, err := json.Marshal(&review)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
