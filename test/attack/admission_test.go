package attack

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
	"github.com/podsec/podsec/test/harness"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loopbackCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns a pool that trusts it.
func loopbackCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
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

// startWebhook runs the real "podsec webhook" on a loopback port with the
// objects stored under root, and returns its base URL and a client that
// trusts it. The process is stopped (SIGTERM, by PID) at the end.
func startWebhook(t *testing.T, root string) (string, *http.Client) {
	t.Helper()
	certFile, keyFile, pool := loopbackCert(t, t.TempDir())
	cmd := exec.Command(harness.PodsecBin(t), "--root", root, "webhook", "--listen", "127.0.0.1:0", "--tls-cert-file", certFile, "--tls-private-key-file", keyFile)
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
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "serving https://"); ok {
				addr <- strings.Fields(rest)[0]
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case a := <-addr:
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		return "https://" + a, client
	case <-done:
		t.Fatal("podsec webhook ended before serving")
	case <-time.After(30 * time.Second):
		t.Fatal("podsec webhook did not serve within 30s")
	}
	return "", nil
}

// debugReview is the AdmissionReview a 1.25+ API server sends a validating
// webhook for "kubectl debug -it web --image=busybox --target=main
// --profile=..." by alice: an UPDATE of pods/ephemeralcontainers whose object
// is the whole running pod with the new ephemeral container.
func debugReview(ns, securityContext string) []byte {
	running := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":%q,"uid":"8d3c5f0e-1b2a-4c4d-9e8f-0a1b2c3d4e5f","annotations":{"kubernetes.io/psp":"default"}},`+
		`"spec":{"serviceAccountName":"default","containers":[{"name":"main","image":"kubia","securityContext":{"readOnlyRootFilesystem":true}}]}}`, ns)
	var pod map[string]any
	_ = json.Unmarshal([]byte(running), &pod)
	debug := map[string]any{"name": "debugger-x7k2p", "image": "busybox", "stdin": true, "tty": true, "targetContainerName": "main",
		"terminationMessagePolicy": "File", "imagePullPolicy": "Always"}
	var sc any
	_ = json.Unmarshal([]byte(securityContext), &sc)
	debug["securityContext"] = sc
	pod["spec"].(map[string]any)["ephemeralContainers"] = []any{debug}
	object, _ := json.Marshal(pod)
	gvr := `{"group":"","version":"v1","resource":"pods"}`
	return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{` +
		`"uid":"0c8e7a4b-5d6f-4e3a-8b9c-1d2e3f4a5b6c","kind":{"group":"","version":"v1","kind":"Pod"},"resource":` + gvr + `,"subResource":"ephemeralcontainers",` +
		`"requestKind":{"group":"","version":"v1","kind":"Pod"},"requestResource":` + gvr + `,"requestSubResource":"ephemeralcontainers",` +
		`"name":"web","namespace":"` + ns + `","operation":"UPDATE",` +
		`"userInfo":{"username":"alice","groups":["system:authenticated"]},` +
		`"object":` + string(object) + `,"oldObject":` + running + `,"dryRun":false,` +
		`"options":{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-debug"}}}`)
}

type reviewResponse struct {
	Response struct {
		UID     string `json:"uid"`
		Allowed bool   `json:"allowed"`
		Status  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

// TestAdmissionEphemeralContainerDebug is "kubectl debug --profile=sysadmin"
// against the webhook: a user who may update pods/ephemeralcontainers adds a
// privileged container to a running pod. The webhook let every subresource
// through, so neither PodSecurityPolicy nor the Pod Security Standards saw
// it; it is now refused as 1.24 refused it, and an ephemeral container the
// policy allows still goes through.
func TestAdmissionEphemeralContainerDebug(t *testing.T) {
	bin := harness.PodsecBin(t)
	root := t.TempDir()
	seed, err := os.ReadFile(filepath.Join("../..", "testdata/policies/seed-default-psp.yaml"))
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
		{"apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n", []string{"apply", "-f", "-"}},
		{"apiVersion: v1\nkind: Namespace\nmetadata: {name: baseline, labels: {pod-security.kubernetes.io/enforce: baseline}}\n", []string{"apply", "-f", "-"}},
	} {
		cmd := exec.Command(bin, append([]string{"--root", root}, step.args...)...)
		cmd.Stdin = strings.NewReader(step.stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("podsec %v: %v\n%s", step.args, err, out)
		}
	}
	base, client := startWebhook(t, root)

	for _, tc := range []struct {
		name, ns, securityContext string
		wantMsg                   string // empty: allowed
	}{
		{"privileged under the seed policy", "team", `{"privileged":true}`,
			`pods "web" is forbidden: PodSecurityPolicy: unable to validate pod: [spec.ephemeralContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]`},
		{"host capabilities under the seed policy", "team", `{"readOnlyRootFilesystem":true,"capabilities":{"add":["SYS_ADMIN"]}}`,
			`spec.ephemeralContainers[0].securityContext.capabilities.add: Invalid value: "SYS_ADMIN": capability may not be added`},
		{"privileged under baseline", "baseline", `{"privileged":true}`,
			`pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged (container "debugger-x7k2p" must not set securityContext.privileged=true)`},
		{"control: what the policy allows", "team", `{"readOnlyRootFilesystem":true}`, ""},
		{"control: baseline allows a plain debug container", "baseline", `{"readOnlyRootFilesystem":true}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.Post(base+"/validate", "application/json", bytes.NewReader(debugReview(tc.ns, tc.securityContext)))
			if err != nil {
				t.Fatalf("POST /validate: %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var r reviewResponse
			if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("POST /validate: %s: %v: %s", resp.Status, err, body)
			}
			if r.Response.UID != "0c8e7a4b-5d6f-4e3a-8b9c-1d2e3f4a5b6c" {
				t.Errorf("POST /validate: uid %q", r.Response.UID)
			}
			if tc.wantMsg == "" {
				if !r.Response.Allowed {
					t.Fatalf("POST /validate kubectl debug (%s): refused: %s", tc.securityContext, body)
				}
				return
			}
			if r.Response.Allowed || r.Response.Status == nil || r.Response.Status.Code != http.StatusForbidden || !strings.Contains(r.Response.Status.Message, tc.wantMsg) {
				t.Fatalf("POST /validate kubectl debug (%s): %s\nwant allowed: false, 403 with %q", tc.securityContext, body, tc.wantMsg)
			}
		})
	}
}
