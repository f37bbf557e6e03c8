//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cluster is etcd and kube-apiserver on 127.0.0.1, with client-certificate
// users and RBAC. No controller manager, scheduler or kubelet: pods are
// stored, never run.
type cluster struct {
	dir     string
	pki     *pki
	server  string // https://127.0.0.1:PORT
	kubectl string
	// kubeconfigs by user name.
	kubeconfigs map[string]string
}

// newCluster starts etcd and a kube-apiserver of its own. The built-in
// PodSecurity plugin is off: the namespaces' pod-security labels are
// enforced by podsec's webhook here (exported Namespaces), and the
// built-in plugin would otherwise refuse first with the same words.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		need(t, "root")
	}
	dir := t.TempDir()
	c := &cluster{dir: dir, pki: newPKI(t, dir), kubectl: e2eBin(t, "kubectl"), kubeconfigs: map[string]string{}}
	etcdBin, apiserverBin := e2eBin(t, "etcd"), e2eBin(t, "kube-apiserver")

	clientPort, peerPort := freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	etcd := start(t, dir, "etcd", etcdBin,
		"--name=e2e", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=e2e="+peerURL, "--log-level=warn")
	waitFor(t, "etcd", etcd, 30*time.Second, func(ctx context.Context) error {
		return httpGet(ctx, http.DefaultClient, etcdURL+"/health")
	})

	crt, key := c.pki.serving(t, "apiserver")
	sa := c.pki.serviceAccountKey(t)
	port := freePort(t)
	c.server = fmt.Sprintf("https://127.0.0.1:%d", port)
	apiserver := start(t, dir, "kube-apiserver", apiserverBin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file="+crt, "--tls-private-key-file="+key,
		"--client-ca-file="+c.pki.path("ca.crt"),
		"--authorization-mode=RBAC",
		// As a kubelet's cluster: else the API server itself refuses
		// privileged containers before any admission.
		"--allow-privileged=true",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+sa, "--service-account-signing-key-file="+sa,
		"--service-cluster-ip-range=10.97.0.0/24",
		"--disable-admission-plugins=PodSecurity",
		"--cert-dir="+filepath.Join(dir, "apiserver-certs"),
		"--profiling=false")
	for _, u := range []struct {
		name   string
		groups []string
	}{{"admin", []string{"system:masters"}}, {"alice", []string{"developers"}}, {"mallory", []string{"developers"}}} {
		c.kubeconfigs[u.name] = c.kubeconfig(t, u.name, u.groups...)
	}
	waitFor(t, "kube-apiserver", apiserver, 90*time.Second, func(ctx context.Context) error {
		out, err := c.run(ctx, "admin", "", "get", "--raw", "/readyz")
		if err != nil || out != "ok" {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	return c
}

// kubeconfig writes the kubeconfig of a client-certificate user.
func (c *cluster) kubeconfig(t *testing.T, user string, groups ...string) string {
	t.Helper()
	crt, key := c.pki.client(t, user, groups...)
	path := filepath.Join(c.dir, user+".kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %q, certificate-authority: %q}
users:
- name: %s
  user: {client-certificate: %q, client-key: %q}
contexts:
- name: e2e
  context: {cluster: e2e, user: %s, namespace: default}
current-context: e2e
`, c.server, c.pki.path("ca.crt"), user, crt, key, user)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing the kubeconfig of %s: %v", user, err)
	}
	return path
}

// run is kubectl as user with stdin; the output is stdout and stderr
// together, trimmed.
func (c *cluster) run(ctx context.Context, user, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.kubectl, append([]string{"--kubeconfig", c.kubeconfigs[user]}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// kubectl is run with a 60s bound.
func (c *cluster) kubectlAs(t *testing.T, user, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return c.run(ctx, user, stdin, args...)
}

// must is kubectlAs that must succeed.
func (c *cluster) must(t *testing.T, user, stdin string, args ...string) string {
	t.Helper()
	out, err := c.kubectlAs(t, user, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s (as %s): %v\n%s", strings.Join(args, " "), user, err, out)
	}
	return out
}

func httpGet(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
