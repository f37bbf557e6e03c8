package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
)

// PullOptions are the options of Pull and Ensure.
type PullOptions struct {
	// Progress receives the pull's progress: a bar per layer when it is a
	// terminal, plain lines otherwise. Nil says nothing.
	Progress io.Writer
	// Insecure allows plain HTTP to the registry (for a registry on a
	// loopback address in tests). Without it, podsec refuses plain HTTP
	// even where go-containerregistry would fall back to it (localhost,
	// private addresses).
	Insecure bool
	// Platform picks the image of a multi-platform index, "os/arch" or
	// "os/arch/variant"; empty means linux and this machine's
	// architecture.
	Platform string
}

// Pull fetches ref from its registry (credentials from the docker
// config, as the docker CLI keeps them) and stores it under its
// normalized reference.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (*Image, error) {
	n, err := Normalize(ref)
	if err != nil {
		return nil, err
	}
	img, err := s.pull(ctx, n, opts)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", n, err)
	}
	return img, nil
}

func (s *Store) pull(ctx context.Context, n string, opts PullOptions) (*Image, error) {
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := parse(n, nopts...)
	if err != nil {
		return nil, err
	}
	plat := defaultPlatform()
	if opts.Platform != "" {
		pp, err := v1.ParsePlatform(opts.Platform)
		if err != nil {
			return nil, fmt.Errorf("platform %q: %w", opts.Platform, err)
		}
		plat = *pp
	}
	p := newProgress(opts.Progress)
	guard := &schemeGuard{next: remote.DefaultTransport, insecure: opts.Insecure}
	tr := &countingTransport{next: &manifestCap{next: guard, limit: s.limits.MaxManifestSize}, p: p}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithPlatform(plat),
		remote.WithTransport(tr),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithUserAgent("podsec"),
	}
	img, err := remote.Image(r, ropts...)
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	p.line("%s: manifest %s", n, d)
	// The manifest and config are read before the lock is taken, held
	// to the limits: a registry that declares a config of gigabytes is
	// refused before a byte of it comes, and a slow one never holds the
	// store.
	if int64(len(raw)) > s.limits.MaxManifestSize {
		return nil, fmt.Errorf("manifest %s: %w", d, sizeLimit("size", s.limits.MaxManifestSize, "--max-manifest-size"))
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", d, err)
	}
	if err := checkManifestLimits(m, s.limits); err != nil {
		return nil, err
	}
	if _, err := img.RawConfigFile(); err != nil { // go-containerregistry keeps it
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	imgs, err := s.add(ctx, img, []string{n}, d.String(), raw, true, p)
	if err != nil {
		return nil, err
	}
	return imgs[0], nil
}

// schemeGuard refuses plain HTTP unless insecure: go-containerregistry
// falls back to it by itself for localhost and private addresses.
type schemeGuard struct {
	next     http.RoundTripper
	insecure bool
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.insecure {
		return nil, fmt.Errorf("refusing plain http to %s (use --insecure for a registry without TLS)", req.URL.Host)
	}
	return g.next.RoundTrip(req)
}

// manifestCap holds every manifest and index a registry sends to the
// store's limit, with an explicit error, where go-containerregistry
// allows 100 MiB.
type manifestCap struct {
	next  http.RoundTripper
	limit int64
}

func (c *manifestCap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/manifests/") {
		return resp, err
	}
	tooBig := fmt.Errorf("manifest %s: %w", req.URL.Path, sizeLimit("size", c.limit, "--max-manifest-size"))
	if resp.ContentLength > c.limit {
		resp.Body.Close()
		return nil, tooBig
	}
	resp.Body = &cappedBody{cappedReader: cappedReader{r: resp.Body, n: c.limit, err: tooBig}, c: resp.Body}
	return resp, nil
}

type cappedBody struct {
	cappedReader
	c io.Closer
}

func (b *cappedBody) Close() error { return b.c.Close() }

// Ensure makes ref present as the kubelet does for a container's
// imagePullPolicy: Always pulls every time, IfNotPresent pulls only when
// the store lacks the image, Never only looks (and fails with
// ErrImageNeverPull, in the kubelet's words). An empty policy is
// defaulted as the API server does: Always for a ":latest" or untagged
// image, IfNotPresent otherwise. Images of LocalRegistry are never pulled
// for Always (PullPolicyFor).
func (s *Store) Ensure(ctx context.Context, ref string, policy corev1.PullPolicy, opts PullOptions) (*Image, error) {
	n, err := Normalize(ref)
	if err != nil {
		return nil, err
	}
	if policy == "" {
		policy = corev1.PullIfNotPresent
		if !isDigestRef(n) && n[len(repository(n)):] == ":latest" {
			policy = corev1.PullAlways
		}
	}
	policy = PullPolicyFor(ref, policy)
	switch policy {
	case corev1.PullAlways:
		return s.Pull(ctx, ref, opts)
	case corev1.PullIfNotPresent, corev1.PullNever:
		img, err := s.Get(ref)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return img, err
		}
		if policy == corev1.PullNever {
			return nil, neverPullError{ref: ref}
		}
		if strings.HasPrefix(n, LocalRegistry) {
			// Nothing serves localhost/: say where such an image comes from.
			return nil, localMissingError{ref: n}
		}
		return s.Pull(ctx, ref, opts)
	}
	return nil, fmt.Errorf("unknown image pull policy %q", policy)
}

// localMissingError is a localhost/ image missing from the node's store:
// no registry serves localhost/, so it is loaded, never pulled.
type localMissingError struct{ ref string }

func (e localMissingError) Error() string {
	return fmt.Sprintf("image %q is not in the node's local image store: localhost/ images are never pulled; "+
		"load it with \"podsec image load FILE\" (a docker save or OCI archive) and check \"podsec image ls\"", e.ref)
}

func (e localMissingError) Is(target error) bool { return target == ErrNotFound }

// neverPullError is the kubelet's message for ErrImageNeverPull.
type neverPullError struct{ ref string }

func (e neverPullError) Error() string {
	return fmt.Sprintf("container image %q is not present with pull policy of Never", e.ref)
}

func (e neverPullError) Is(target error) bool { return target == ErrImageNeverPull }
