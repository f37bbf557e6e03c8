package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/podsec/podsec/store"
)

// Limits of the server. The API server's default webhook timeout is 10s
// and its request bodies are a pod and the old pod: 3 MiB is well above
// the 1.5 MiB an etcd object may have, twice.
const (
	// MaxReviewBytes is the largest request body read; larger ones get 413.
	MaxReviewBytes    = 3 << 20
	readHeaderTimeout = 5 * time.Second
	// readTimeout bounds a slow sender: 3 MiB in 10s is 300 KiB/s, far
	// below what the API server sends.
	readTimeout     = 10 * time.Second
	writeTimeout    = 15 * time.Second
	idleTimeout     = 90 * time.Second
	shutdownTimeout = 10 * time.Second
	maxHeaderBytes  = 64 << 10
)

// DefaultMaxInflight is the number of reviews decided at once when Config
// leaves it zero: a review of the largest size takes about 50 ms of one
// core and 40 MiB, so twice the cores keeps them busy while the peak stays
// far below a pod's usual memory limit.
func DefaultMaxInflight() int { return 2 * runtime.GOMAXPROCS(0) }

// Config is what a webhook server decides with and how it serves.
type Config struct {
	// Store holds the policies, RBAC objects and namespaces; it is read
	// again after every change (store.Store.AdmissionObjects).
	Store *store.Store
	// Cert is the server's TLS certificate.
	Cert tls.Certificate
	// ClientCAs, when not nil, makes the server require a client
	// certificate signed by one of them.
	ClientCAs *x509.CertPool
	// MaxInflight bounds the reviews decided at once; zero is
	// DefaultMaxInflight. Past it, a review gets 429 with Retry-After.
	MaxInflight int
	// Log receives one line per review and the server's errors; nil
	// discards them.
	Log io.Writer
}

func (c Config) maxInflight() int {
	if c.MaxInflight > 0 {
		return c.MaxInflight
	}
	return DefaultMaxInflight()
}

func (c Config) log() io.Writer {
	if c.Log == nil {
		return io.Discard
	}
	return c.Log
}

// TLSConfig is the server's TLS configuration: TLS 1.2 or later, and a
// verified client certificate when ClientCAs is set.
func (c Config) TLSConfig() *tls.Config {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c.Cert}}
	if c.ClientCAs != nil {
		tc.ClientAuth, tc.ClientCAs = tls.RequireAndVerifyClientCert, c.ClientCAs
	}
	return tc
}

// Serve serves the webhook over TLS on ln until ctx ends, then shuts the
// server down, letting requests in flight finish. Its log lines are
// written in batches (batchLog), all of them by the time it returns.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	if cfg.Log != nil {
		bl := newBatchLog(cfg.Log)
		cfg.Log = bl
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			bl.run(stop)
		}()
		defer func() {
			close(stop)
			<-stopped
			bl.Flush()
		}()
	}
	srv := &http.Server{
		Handler:           NewHandler(cfg),
		TLSConfig:         cfg.TLSConfig(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(cfg.log(), "podsec webhook: ", 0),
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
