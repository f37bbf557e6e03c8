package image

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
)

// dockerHub is the registry name of Docker Hub in normalized references,
// as containerd spells it; go-containerregistry calls it index.docker.io.
const dockerHub = "docker.io"

// Normalize returns the fully qualified form of an image reference, as
// containerd and the kubelet name images: "busybox" becomes
// "docker.io/library/busybox:latest", "localhost/busybox" becomes
// "localhost/busybox:latest", and a digest reference keeps its digest
// ("repo@sha256:..."; a tag given with a digest is dropped, the digest
// wins).
func Normalize(ref string) (string, error) {
	r, err := parse(ref)
	if err != nil {
		return "", err
	}
	return format(r), nil
}

func parse(ref string, opts ...name.Option) (name.Reference, error) {
	if ref == "" || strings.TrimSpace(ref) != ref {
		return nil, fmt.Errorf("%w: %q", ErrInvalidReference, ref)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrInvalidReference, ref)
	}
	return r, nil
}

func format(r name.Reference) string {
	reg := r.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = dockerHub
	}
	repo := reg + "/" + r.Context().RepositoryStr()
	if d, ok := r.(name.Digest); ok {
		return repo + "@" + d.DigestStr()
	}
	return repo + ":" + r.Identifier()
}

// repository returns the repository part of a normalized reference.
func repository(normalized string) string {
	if i := strings.LastIndex(normalized, "@"); i >= 0 {
		return normalized[:i]
	}
	slash := strings.LastIndex(normalized, "/")
	if i := strings.LastIndex(normalized, ":"); i > slash {
		return normalized[:i]
	}
	return normalized
}

// isDigestRef reports whether a normalized reference names a digest.
func isDigestRef(normalized string) bool { return strings.Contains(normalized, "@") }

var idPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(sha256:)?[0-9a-f]{12,64}$`) })

// looksLikeID reports whether s can be an image ID or a prefix of one
// (12 hex digits at least, as docker accepts).
func looksLikeID(s string) bool { return idPattern().MatchString(s) }
