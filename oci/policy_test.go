package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podsec/podsec/policy/ocispec"
)

// TestLoadPolicyNone: --policy none is no policy (the privileged level,
// no file), while a real file is read and a missing one is an error.
func TestLoadPolicyNone(t *testing.T) {
	p, err := LoadPolicy(NoPolicy)
	if err != nil || p.Level != ocispec.Privileged || p.Path != "" {
		t.Fatalf("LoadPolicy(none) = %+v, %v; want the privileged level without a file", p, err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(f, []byte("level: restricted\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := LoadPolicy(f); err != nil || p.Level != ocispec.Restricted || p.Path != f {
		t.Errorf("LoadPolicy(%s) = %+v, %v; want restricted from the file", f, p, err)
	}
	if _, err := LoadPolicy(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "reading the node policy") {
		t.Errorf("LoadPolicy(missing) = %v; want a read error", err)
	}
}
