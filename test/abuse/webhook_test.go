package abuse

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podsec/podsec/test/harness"
)

// Bounds of the flood. The API server gives a webhook 10s by default
// (timeoutSeconds), after which failurePolicy: Fail refuses the pod: no
// review may take longer, a 429 included. The webhook's peak RSS bound is
// the Go runtime and podsec's binary (about 30 MiB) plus the in-flight
// reviews, each a 3 MB body and about 15 MB decoded and copied (webhook's
// BenchmarkReview), doubled by the garbage collector's headroom, for the
// default 4 in flight on 2 cores: about 150 MiB; 256 MiB leaves room for
// the TLS connections of 50 clients and the machine's core count. Before
// the limit, 12 such reviews took 2.1 GB: past guardKiB the test stops
// the webhook rather than let it take the node.
const (
	floodClients  = 50
	reviewTimeout = 10 * time.Second
	peakRSSKiB    = 256 << 10
	guardKiB      = 1536 << 10
)

// pki is a CA with the webhook's server certificate and a client
// certificate it signed, as files.
type pki struct {
	dir                       string
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	client                    tls.Certificate
}

func newPKI(t testing.TB, cn string) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), pool: x509.NewCertPool()}
	caKey, caDER := certificate(t, &x509.Certificate{Subject: pkix.Name{CommonName: cn + "-ca"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, nil, nil)
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p.pool.AddCert(ca)
	srvKey, srvDER := certificate(t, &x509.Certificate{Subject: pkix.Name{CommonName: "podsec-webhook"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, caKey)
	cliKey, cliDER := certificate(t, &x509.Certificate{Subject: pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, caKey)
	p.client = tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
	p.caFile, p.certFile, p.keyFile = filepath.Join(p.dir, "ca.crt"), filepath.Join(p.dir, "tls.crt"), filepath.Join(p.dir, "tls.key")
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	for f, block := range map[string]*pem.Block{
		p.caFile: {Type: "CERTIFICATE", Bytes: caDER}, p.certFile: {Type: "CERTIFICATE", Bytes: srvDER}, p.keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(f, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// certificate signs tmpl with the parent's key, or itself when parent is
// nil, and returns its key and DER.
func certificate(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

// webhookProc is a running "podsec webhook".
type webhookProc struct {
	base string
	pid  int
}

// seedRoot is a state root with the seed chapter's policy, which alice may
// use.
func seedRoot(t testing.TB, bin string) string {
	t.Helper()
	root := t.TempDir()
	seed, err := os.ReadFile("../../testdata/policies/seed-default-psp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		stdin string
		args  []string
	}{
		{string(seed), []string{"apply", "-f", "-"}},
		{"", []string{"create", "clusterrole", "psp-default", "--verb=use", "--resource=podsecuritypolicies", "--resource-name=default"}},
		{"", []string{"create", "clusterrolebinding", "psp-alice", "--clusterrole=psp-default", "--user=alice"}},
	} {
		cmd := exec.Command(bin, append([]string{"--root", root}, step.args...)...)
		cmd.Stdin = strings.NewReader(step.stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("podsec %v: %v\n%s", step.args, err, out)
		}
	}
	return root
}

// startWebhook runs the real binary on a loopback port; it is stopped by
// PID at the end of the test.
func startWebhook(t testing.TB, bin, root string, p *pki, args ...string) *webhookProc {
	t.Helper()
	full := append([]string{"--root", root, "webhook", "--listen", "127.0.0.1:0", "--tls-cert-file", p.certFile, "--tls-private-key-file", p.keyFile}, args...)
	cmd := exec.Command(bin, full...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	harness.StopAtCleanup(t, cmd.Process, done)
	addr := make(chan string, 1)
	var said bytes.Buffer
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "serving https://"); ok {
				addr <- strings.Fields(rest)[0]
			} else if said.Len() < 4096 {
				said.WriteString(sc.Text() + "\n")
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case a := <-addr:
		return &webhookProc{base: "https://" + a, pid: cmd.Process.Pid}
	case <-done:
		t.Fatalf("podsec webhook %v ended before serving:\n%s", args, said.String())
	case <-time.After(30 * time.Second):
		t.Fatal("podsec webhook did not serve within 30s")
	}
	return nil
}

// statusKiB reads a "VmHWM:"-style line of /proc/PID/status in KiB.
func statusKiB(pid int, field string) int64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for l := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// bigReview is a CREATE AdmissionReview by alice of about 3 MB whose pod
// is many small strings (50 containers of 500 environment variables), the
// shape that costs a decoder most per byte.
func bigReview(t testing.TB) []byte {
	t.Helper()
	var containers []any
	for i := range 50 {
		env := make([]any, 500)
		for j := range env {
			env[j] = map[string]any{"name": fmt.Sprintf("V%d", j), "value": fmt.Sprintf("%080d", j)}
		}
		containers = append(containers, map[string]any{"name": fmt.Sprintf("c%d", i), "image": "kubia", "env": env})
	}
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "big", "namespace": "team"}, "spec": map[string]any{"containers": containers}}
	b, err := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{
		"uid": "uid-flood", "kind": map[string]any{"group": "", "version": "v1", "kind": "Pod"},
		"resource": map[string]any{"group": "", "version": "v1", "resource": "pods"}, "namespace": "team", "operation": "CREATE",
		"userInfo": map[string]any{"username": "alice", "groups": []any{"system:authenticated"}}, "object": pod,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2_500_000 || len(b) > 3<<20 {
		t.Fatalf("review of %d bytes, want about 3 MB", len(b))
	}
	return b
}

// floodResult is what a flood saw.
type floodResult struct {
	codes       map[int]int // HTTP status -> count; 0 for transport errors
	retryAfter  int         // 429s with a Retry-After header
	slowest     time.Duration
	elapsed     time.Duration
	peakKiB     int64 // the webhook's VmHWM after the flood
	guardKilled bool
	errs        []string
}

// flood sends n copies of body to path at once, each on a connection of
// its own, and watches the webhook's memory: past guardKiB it is killed.
func flood(t testing.TB, w *webhookProc, pool *x509.CertPool, body []byte, n int) floodResult {
	t.Helper()
	res := floodResult{codes: map[int]int{}}
	var mu sync.Mutex
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if statusKiB(w.pid, "VmRSS") > guardKiB {
				_ = syscall.Kill(w.pid, syscall.SIGKILL)
				mu.Lock()
				res.guardKilled = true
				mu.Unlock()
				return
			}
		}
	}()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// No keep-alive: every client is a connection of its own, as
			// the API server's replicas and their parallel requests are.
			client := &http.Client{Timeout: 3 * reviewTimeout, Transport: &http.Transport{DisableKeepAlives: true,
				TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
			<-start
			t0 := time.Now()
			resp, err := client.Post(w.base+"/mutate", "application/json", bytes.NewReader(body))
			code, retry := 0, false
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code, retry = resp.StatusCode, resp.Header.Get("Retry-After") != ""
			}
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			res.codes[code]++
			if code == http.StatusTooManyRequests && retry {
				res.retryAfter++
			}
			if err != nil && len(res.errs) < 3 {
				res.errs = append(res.errs, err.Error())
			}
			res.slowest = max(res.slowest, d)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	res.elapsed = time.Since(t0)
	close(stop)
	<-watched
	res.peakKiB = statusKiB(w.pid, "VmHWM")
	return res
}

// TestWebhookFlood sends 50 reviews of 3 MB at once to the real webhook,
// as a cluster creating many large pods does: the webhook decides a few
// at a time and answers the others 429 with Retry-After at once, no
// review takes longer than the API server waits, and its memory stays
// bounded. Before the limit, every review was decoded at once at some 250
// times its size and each took seconds.
func TestWebhookFlood(t *testing.T) {
	bin := harness.PodsecBin(t)
	p := newPKI(t, "flood")
	w := startWebhook(t, bin, seedRoot(t, bin), p)
	res := flood(t, w, p.pool, bigReview(t), floodClients)
	t.Logf("%d reviews of 3 MB: %v in %v, slowest %v, webhook peak RSS %d MiB", floodClients, res.codes, res.elapsed, res.slowest, res.peakKiB>>10)
	if res.guardKilled {
		t.Fatalf("the webhook passed %d MiB of RSS and was killed", guardKiB>>10)
	}
	if res.codes[http.StatusOK] == 0 || res.codes[http.StatusTooManyRequests] == 0 || res.codes[http.StatusOK]+res.codes[http.StatusTooManyRequests] != floodClients {
		t.Errorf("answers %v (errors %q), want some 200 and the rest 429", res.codes, res.errs)
	}
	if res.retryAfter != res.codes[http.StatusTooManyRequests] {
		t.Errorf("%d of %d 429 answers had Retry-After", res.retryAfter, res.codes[http.StatusTooManyRequests])
	}
	if res.slowest > reviewTimeout {
		t.Errorf("slowest review took %v, more than the API server's %v", res.slowest, reviewTimeout)
	}
	if res.peakKiB > peakRSSKiB {
		t.Errorf("webhook peak RSS %d MiB, want under %d MiB", res.peakKiB>>10, peakRSSKiB>>10)
	}
	// The webhook still answers once the flood is over.
	res = flood(t, w, p.pool, bigReview(t), 1)
	if res.codes[http.StatusOK] != 1 {
		t.Errorf("a review after the flood: %v %q, want 200", res.codes, res.errs)
	}
}

// TestWebhookClientCA: with --client-ca-file, a client without a
// certificate, or with one another CA signed, gets no answer; the API
// server's certificate, signed by that CA, gets one.
func TestWebhookClientCA(t *testing.T) {
	bin := harness.PodsecBin(t)
	p, other := newPKI(t, "cluster"), newPKI(t, "other")
	w := startWebhook(t, bin, seedRoot(t, bin), p, "--client-ca-file", p.caFile)
	body := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},` +
		`"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"team","operation":"CREATE","userInfo":{"username":"alice"},` +
		`"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"main","image":"kubia"}]}}}}`)
	for _, tc := range []struct {
		name   string
		certs  []tls.Certificate
		answer bool
	}{
		{"no client certificate", nil, false},
		{"certificate of another CA", []tls.Certificate{other.client}, false},
		{"the API server's certificate", []tls.Certificate{p.client}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := &http.Client{Timeout: reviewTimeout, Transport: &http.Transport{DisableKeepAlives: true,
				TLSClientConfig: &tls.Config{RootCAs: p.pool, Certificates: tc.certs, MinVersion: tls.VersionTLS12}}}
			resp, err := client.Post(w.base+"/validate", "application/json", bytes.NewReader(body))
			if !tc.answer {
				if err == nil {
					data, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					t.Fatalf("POST /validate with %s: %s %s, want the TLS handshake refused", tc.name, resp.Status, data)
				}
				return
			}
			if err != nil {
				t.Fatalf("POST /validate with %s: %v", tc.name, err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), `"uid":"u1"`) {
				t.Fatalf("POST /validate with %s: %s %s, want an AdmissionReview", tc.name, resp.Status, data)
			}
		})
	}
}

// BenchmarkWebhookFlood reports reviews per second and the webhook's peak
// RSS under floods of 50 concurrent 3 MB reviews (compare builds with
// PODSEC_ATTACK_PODSEC): go test -tags seccomp -run XXX -bench WebhookFlood
// -benchtime 3x ./test/abuse/
func BenchmarkWebhookFlood(b *testing.B) {
	bin := harness.PodsecBin(b)
	p := newPKI(b, "bench")
	w := startWebhook(b, bin, seedRoot(b, bin), p)
	body := bigReview(b)
	var answered, ok int
	var peak int64
	var elapsed time.Duration
	for b.Loop() {
		res := flood(b, w, p.pool, body, floodClients)
		if res.guardKilled {
			b.Fatalf("the webhook passed %d MiB of RSS and was killed after %v", guardKiB>>10, res.elapsed)
		}
		answered += res.codes[http.StatusOK] + res.codes[http.StatusTooManyRequests]
		ok += res.codes[http.StatusOK]
		peak = max(peak, res.peakKiB)
		elapsed += res.elapsed
	}
	b.ReportMetric(float64(ok)/elapsed.Seconds(), "admissions/s")
	b.ReportMetric(float64(answered)/elapsed.Seconds(), "answers/s")
	b.ReportMetric(float64(peak>>10), "peak-RSS-MiB")
}
