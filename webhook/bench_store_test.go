package webhook

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"syscall"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podsec/podsec/policy/admission/admissiontest"
	"github.com/podsec/podsec/store"
)

// clusterStore is a store on disk holding admissiontest.Store: 50
// policies, 200 bindings and the team namespaces with their Pod Security
// labels.
func clusterStore(tb testing.TB) *store.Store {
	tb.Helper()
	return clusterStoreIn(tb, tb.TempDir())
}

// clusterStoreIn is clusterStore with its state root at root.
func clusterStoreIn(tb testing.TB, root string) *store.Store {
	tb.Helper()
	st, err := store.Open(root)
	if err != nil {
		tb.Fatal(err)
	}
	objs := admissiontest.Store(tb)
	var all []store.Object
	for name, labels := range objs.NamespaceLabels {
		all = append(all, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})
	}
	for _, p := range objs.PodSecurityPolicies {
		all = append(all, p)
	}
	for _, o := range objs.RBAC.ClusterRoles {
		all = append(all, o)
	}
	for _, o := range objs.RBAC.ClusterRoleBindings {
		all = append(all, o)
	}
	for _, o := range objs.RBAC.Roles {
		all = append(all, o)
	}
	for _, o := range objs.RBAC.RoleBindings {
		all = append(all, o)
	}
	for _, o := range all {
		setKind(tb, st, o)
		if _, _, err := st.Apply(o); err != nil {
			tb.Fatalf("Apply(%T %s): %v", o, o.GetName(), err)
		}
	}
	return st
}

// setKind gives an object built in Go the apiVersion and kind of the
// store's kind of its Go type.
func setKind(tb testing.TB, st *store.Store, o store.Object) {
	tb.Helper()
	for _, k := range st.Kinds() {
		if reflect.TypeOf(k.New()) == reflect.TypeOf(o) {
			o.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(k.APIVersions[0], k.Kind))
			return
		}
	}
	tb.Fatalf("no kind of the store holds %T", o)
}

// storeReview is a CREATE AdmissionReview of an admissiontest case.
type storeReview struct {
	name, wantPolicy string
	body             []byte
}

func storeReviews(tb testing.TB) []storeReview {
	tb.Helper()
	var out []storeReview
	for i, c := range admissiontest.Cases(tb) {
		obj, err := json.Marshal(c.Pod)
		if err != nil {
			tb.Fatal(err)
		}
		review := admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{
				UID:       types.UID(fmt.Sprintf("uid-%d", i)),
				Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
				Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
				Namespace: c.Pod.Namespace, Name: c.Pod.Name, Operation: admissionv1.Create,
				UserInfo: authenticationv1.UserInfo{Username: c.User.Name, Groups: c.User.Groups},
				Object:   runtime.RawExtension{Raw: obj},
			},
		}
		body, err := json.Marshal(review)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, storeReview{name: c.Name, wantPolicy: c.WantPolicy, body: body})
	}
	return out
}

// checkAnswer fails unless data is the AdmissionReview answering rv as
// admissiontest says it must be answered.
func checkAnswer(tb testing.TB, rv storeReview, code int, data []byte) {
	tb.Helper()
	if code != http.StatusOK {
		tb.Fatalf("POST /mutate %s: %d %s", rv.name, code, data)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &out); err != nil || out.Response == nil {
		tb.Fatalf("POST /mutate %s: answer %s: %v", rv.name, data, err)
	}
	if got := out.Response.Allowed; got != (rv.wantPolicy != "") {
		tb.Fatalf("POST /mutate %s: allowed %v, want %v (%s)", rv.name, got, !got, data)
	}
	if rv.wantPolicy != "" && out.Response.AuditAnnotations["admit-policy"] != rv.wantPolicy {
		tb.Fatalf("POST /mutate %s: admitted by %q, want %q", rv.name, out.Response.AuditAnnotations["admit-policy"], rv.wantPolicy)
	}
}

// BenchmarkWebhookStore measures admissions per second through the
// handler, in process: each iteration is a whole HTTP request holding a
// real AdmissionReview (decoded, admitted against a store of 50 policies
// and 200 bindings on disk, answered with its patch), from every CPU at
// once as a webhook serves them.
func BenchmarkWebhookStore(b *testing.B) {
	h := NewHandler(Config{Store: clusterStore(b)})
	for _, rv := range storeReviews(b) {
		b.Run(rv.name, func(b *testing.B) {
			post := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/mutate", bytes.NewReader(rv.body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			rec := post()
			checkAnswer(b, rv, rec.Code, rec.Body.Bytes())
			b.ReportAllocs()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if rec := post(); rec.Code != http.StatusOK {
						b.Errorf("POST /mutate %s: %d", rv.name, rec.Code)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "admissions/s")
		})
	}
}

// BenchmarkWebhookTLS is BenchmarkWebhookStore through Serve: the HTTP
// server over loopback TLS, with keep-alive clients on every CPU, as the
// API server calls a webhook.
func BenchmarkWebhookTLS(b *testing.B) {
	cert, pool := selfSigned(b)
	st := clusterStore(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Config{Store: st, Cert: cert, MaxInflight: 64}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	url := "https://" + ln.Addr().String() + "/mutate"
	post := func(body []byte) (int, []byte, error) {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		return resp.StatusCode, data, err
	}
	for _, rv := range storeReviews(b) {
		b.Run(rv.name, func(b *testing.B) {
			code, data, err := post(rv.body)
			if err != nil {
				b.Fatal(err)
			}
			checkAnswer(b, rv, code, data)
			b.ReportAllocs()
			defer reportCPU(b)()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code, _, err := post(rv.body); err != nil || code != http.StatusOK {
						b.Errorf("POST /mutate %s: %d %v", rv.name, code, err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "admissions/s")
		})
	}
}

// reportCPU reports the process's CPU time (user and system, every
// thread: server and clients alike) per admission, and the admissions one
// CPU second makes, which other work on a shared machine disturbs far
// less than the wall-clock rate. Call the function it returns when the
// timed loop is done.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		per := float64(cpu()-start) / float64(b.N)
		b.ReportMetric(per/1e3, "cpu-µs/op")
		b.ReportMetric(1e9/per, "admissions/cpu-s")
	}
}

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "podsec-webhook-bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
