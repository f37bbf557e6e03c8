//go:build seccomp

package runtime

import (
	"testing"

	"github.com/opencontainers/runc/libcontainer/specconv"

	"github.com/podsec/podsec/seccomp"
)

// BenchmarkSandboxFilter compares compiling RuntimeDefault with
// libseccomp, as every sandbox did, with reading it from the cache.
func BenchmarkSandboxFilter(b *testing.B) {
	cfg, err := specconv.SetupSeccomp(seccomp.RuntimeDefault(nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			if _, err := compileSandboxFilter(cfg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		root := b.TempDir()
		if _, err := sandboxFilter(root); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := sandboxFilter(root); err != nil {
				b.Fatal(err)
			}
		}
	})
}
