package seccomp

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
)

// TestLocalhostFIFO checks that a FIFO is refused without blocking on open.
func TestLocalhostFIFO(t *testing.T) {
	root := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.json"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	_, err := Localhost(root, "fifo.json", nil)
	if !errors.Is(err, ErrNotRegularFile) {
		t.Errorf("Localhost(%q, fifo.json) = %v, want ErrNotRegularFile", root, err)
	}
}
