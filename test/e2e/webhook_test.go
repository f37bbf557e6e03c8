//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/test/harness"
)

// webhook is `podsec webhook` on 127.0.0.1, registered in the cluster by
// deploy/webhook's manifests.
type webhook struct {
	proc *proc
	url  string // https://127.0.0.1:PORT
}

// startWebhook exports testdata's objects to a podsec state root, starts
// the webhook with a certificate of the cluster's CA, and registers
// deploy/webhook's two configurations with their service replaced by the
// webhook's URL and CA_BUNDLE by the CA: nothing else is changed.
func startWebhook(t *testing.T, c *cluster) *webhook {
	t.Helper()
	podsec := harness.PodsecBin(t)
	objects := filepath.Join(c.dir, "objects")
	args := []string{"apply", "--root", objects}
	for _, f := range []string{"psp.yaml", "rbac.yaml", "namespaces.yaml"} {
		args = append(args, "-f", filepath.Join("testdata", f))
	}
	if out, err := runCmd(podsec, args...); err != nil {
		t.Fatalf("podsec %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	crt, key := c.pki.serving(t, "webhook")
	port := freePort(t)
	w := &webhook{url: fmt.Sprintf("https://127.0.0.1:%d", port)}
	w.proc = start(t, c.dir, "webhook", podsec, "webhook", "--objects-dir", objects,
		"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--tls-cert-file", crt, "--tls-private-key-file", key)
	pool := x509.NewCertPool()
	pool.AddCert(c.pki.caCert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 2 * time.Second}
	waitFor(t, "podsec webhook", w.proc, 30*time.Second, func(ctx context.Context) error {
		return httpGet(ctx, client, w.url+"/healthz")
	})

	caBundle := base64.StdEncoding.EncodeToString(mustRead(t, c.pki.path("ca.crt")))
	for _, f := range []string{"mutatingwebhookconfiguration.yaml", "validatingwebhookconfiguration.yaml"} {
		manifest := registration(t, filepath.Join(repoRoot, "deploy", "webhook", f), w.url, caBundle)
		c.must(t, "admin", manifest, "apply", "-f", "-")
	}
	return w
}

// registration is a deploy/webhook manifest with each webhook's service
// replaced by url + its path and CA_BUNDLE by caBundle.
func registration(t *testing.T, path, url, caBundle string) string {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal(mustRead(t, path), &obj); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	hooks, _ := obj["webhooks"].([]any)
	if len(hooks) == 0 {
		t.Fatalf("%s: no webhooks", path)
	}
	for _, h := range hooks {
		cc := h.(map[string]any)["clientConfig"].(map[string]any)
		svc, ok := cc["service"].(map[string]any)
		if !ok || cc["caBundle"] != "CA_BUNDLE" {
			t.Fatalf("%s: clientConfig is not a service with CA_BUNDLE: %v", path, cc)
		}
		delete(cc, "service")
		cc["url"] = url + svc["path"].(string)
		cc["caBundle"] = caBundle
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatalf("encoding %s: %v", path, err)
	}
	return string(out)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return data
}
