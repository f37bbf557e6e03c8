package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
)

// testRegistry is go-containerregistry's in-process registry on a
// loopback port, counting the requests for manifests.
type testRegistry struct {
	host      string
	manifests atomic.Int64
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	r := &testRegistry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/manifests/") && req.Method == http.MethodGet {
			r.manifests.Add(1)
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func (r *testRegistry) push(t *testing.T, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(r.host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("remote.Write(%s) = %v", ref, err)
	}
	return ref.String()
}

func TestPull(t *testing.T) {
	a, _ := testImages(t)
	reg := newTestRegistry(t)
	ref := reg.push(t, "podsec/a:1", a)
	d, _ := a.Digest()
	id, _ := a.ConfigName()
	tests := []struct {
		name, ref, wantRef, wantErr string
		insecure                    bool
	}{
		{name: "by tag", ref: ref, wantRef: ref, insecure: true},
		{name: "by digest", ref: reg.host + "/podsec/a@" + d.String(), wantRef: reg.host + "/podsec/a@" + d.String(), insecure: true},
		{name: "plain http refused", ref: ref, wantErr: "refusing plain http"},
		{name: "missing tag", ref: reg.host + "/podsec/a:nope", wantErr: "MANIFEST_UNKNOWN", insecure: true},
		{name: "bad reference", ref: "UPPER", wantErr: "invalid reference format", insecure: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, filepath.Join(t.TempDir(), "images"))
			var progress bytes.Buffer
			img, err := s.Pull(context.Background(), tc.ref, PullOptions{Insecure: tc.insecure, Progress: &progress})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Pull(%s) = %v, want error %q", tc.ref, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Pull(%s) = %v", tc.ref, err)
			}
			if img.Ref != tc.wantRef || img.Digest != d.String() || img.ID != id.String() || len(img.Layers) != 2 {
				t.Errorf("Pull(%s) = %+v, want %s %s", tc.ref, img, tc.wantRef, d)
			}
			mustRead(t, filepath.Join(img.Layers[1], "a"), "a")
			if !strings.Contains(progress.String(), "done") {
				t.Errorf("Pull(%s) progress = %q, want per-layer lines", tc.ref, progress.String())
			}
			if got, err := s.Get(tc.wantRef); err != nil || got.ID != img.ID {
				t.Errorf("Get(%s) after Pull = %v, %v", tc.wantRef, got, err)
			}
		})
	}
}

func TestEnsure(t *testing.T) {
	a, _ := testImages(t)
	reg := newTestRegistry(t)
	ref := reg.push(t, "podsec/a:1", a)
	latest := reg.push(t, "podsec/a:latest", a)
	opts := PullOptions{Insecure: true}
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "images"))

	_, err := s.Ensure(ctx, ref, corev1.PullNever, opts)
	want := `container image "` + ref + `" is not present with pull policy of Never`
	if !errors.Is(err, ErrImageNeverPull) || err.Error() != want {
		t.Fatalf("Ensure(%s, Never) = %v, want %q (ErrImageNeverPull)", ref, err, want)
	}
	steps := []struct {
		policy corev1.PullPolicy
		ref    string
		pulls  int64 // manifest requests this step makes
	}{
		{corev1.PullIfNotPresent, ref, 1},
		{corev1.PullIfNotPresent, ref, 0},
		{corev1.PullNever, ref, 0},
		{corev1.PullAlways, ref, 1},
		{"", ref, 0},    // defaults to IfNotPresent for a tag
		{"", latest, 1}, // defaults to Always for :latest
		{"", latest, 1},
	}
	for _, st := range steps {
		before := reg.manifests.Load()
		img, err := s.Ensure(ctx, st.ref, st.policy, opts)
		if err != nil {
			t.Fatalf("Ensure(%s, %q) = %v", st.ref, st.policy, err)
		}
		if n := reg.manifests.Load() - before; n != st.pulls {
			t.Errorf("Ensure(%s, %q) made %d manifest requests, want %d", st.ref, st.policy, n, st.pulls)
		}
		if img.Ref != st.ref {
			t.Errorf("Ensure(%s, %q).Ref = %s", st.ref, st.policy, img.Ref)
		}
	}
	if _, err := s.Ensure(ctx, ref, "Sometimes", opts); err == nil || !strings.Contains(err.Error(), `unknown image pull policy "Sometimes"`) {
		t.Errorf("Ensure(%s, Sometimes) = %v", ref, err)
	}
}

// TestEnsureLocalMissing: a localhost/ image that is not in the store is
// never asked of https://localhost/; the error says how to load it.
func TestEnsureLocalMissing(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "images"))
	for _, policy := range []corev1.PullPolicy{"", corev1.PullAlways, corev1.PullIfNotPresent} {
		_, err := s.Ensure(context.Background(), "localhost/nothere", policy, PullOptions{})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Ensure(localhost/nothere, %q) = %v, want ErrNotFound", policy, err)
		}
		for _, want := range []string{`"localhost/nothere:latest" is not in the node's local image store`, "podsec image load"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Ensure(localhost/nothere, %q) = %q, want %q in it", policy, err, want)
			}
		}
		if strings.Contains(err.Error(), "https://") || strings.Contains(err.Error(), "refused") {
			t.Errorf("Ensure(localhost/nothere, %q) tried a registry: %v", policy, err)
		}
	}
}
