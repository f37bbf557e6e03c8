package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/podsec/podsec/store"
	"github.com/podsec/podsec/webhook"
)

func newWebhookCommand(g *globals) *cobra.Command {
	var listen, certFile, keyFile, clientCAFile, objectsDir, kubeconfig string
	var maxInflight int
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
annotations go in the response.

The webhook bounds what the cluster can make it take: request bodies of
3 MiB (413 past it), --max-inflight reviews at once (429 with Retry-After
past it), and read, write and idle timeouts. With --client-ca-file, only
clients with a certificate that CA signed are served, as the API server
presents one from its --admission-control-config-file kubeconfig. See
deploy/webhook/README.md.

The process runs Go's garbage collector at GOGC=400 with a soft memory
limit of 128 MiB (GOMEMLIMIT), unless those variables are set: a review's
allocations are all garbage once it is answered. Log lines are written in
batches, at most 50 ms after the review.`,
		Example: `  # Serve the objects exported from the cluster into /srv/podsec
  podsec apply --root /srv/podsec -f psp.yaml -f rbac.yaml
  podsec webhook --objects-dir /srv/podsec --listen :8443 \
    --tls-cert-file /etc/podsec/tls.crt --tls-private-key-file /etc/podsec/tls.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kubeconfig != "" {
				return errors.New("--kubeconfig is not supported: use --objects-dir with objects exported from the cluster (kubectl get psp,clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml | podsec apply --root DIR -f -)")
			}
			if maxInflight < 0 {
				return fmt.Errorf("--max-inflight %d: must not be negative", maxInflight)
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
			cfg := webhook.Config{Store: st, Cert: cert, MaxInflight: maxInflight, Log: cmd.ErrOrStderr()}
			if clientCAFile != "" {
				if cfg.ClientCAs, err = loadCertPool(clientCAFile); err != nil {
					return err
				}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			tuneGC()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "podsec webhook: serving https://%s (/mutate, /validate) with the objects of %s\n", ln.Addr(), objectsDir)
			return webhook.Serve(ctx, ln, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", ":8443", "address to serve HTTPS on")
	f.StringVar(&certFile, "tls-cert-file", "", "PEM certificate (chain) of the server")
	f.StringVar(&keyFile, "tls-private-key-file", "", "PEM private key of the certificate")
	f.StringVar(&clientCAFile, "client-ca-file", "", "PEM CA bundle: require a client certificate it signed (the API server's, from its admission configuration's kubeconfig)")
	f.IntVar(&maxInflight, "max-inflight", 0, "reviews decided at once, past which the webhook answers 429 (default: twice the CPUs)")
	f.StringVar(&objectsDir, "objects-dir", "", "state root whose stored objects the webhook decides with (default: --root)")
	f.StringVar(&kubeconfig, "kubeconfig", "", "not supported: use --objects-dir")
	_ = cmd.MarkFlagRequired("tls-cert-file")
	_ = cmd.MarkFlagRequired("tls-private-key-file")
	return cmd
}

// Garbage collector settings of the webhook process, unless GOGC or
// GOMEMLIMIT say otherwise. A review allocates some 40 KB, all of it
// garbage once answered, over a live heap of a few MiB (the indexed
// policies and bindings): at Go's default GOGC=100 the collector ran
// every hundred reviews or so and took about a tenth of the server's CPU.
// With webhookGOGC it runs a fifth as often; webhookMemoryLimit keeps the
// largest reviews (3 MiB bodies, --max-inflight of them) within the
// memory the abuse suite allows, since the soft limit makes the collector
// run early when the heap nears it.
const (
	webhookGOGC        = 400
	webhookMemoryLimit = 128 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(webhookGOGC)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(webhookMemoryLimit)
	}
}

// loadCertPool reads a PEM bundle of CA certificates.
func loadCertPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("loading the client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("loading the client CA: no PEM certificate in %s", file)
	}
	return pool, nil
}
