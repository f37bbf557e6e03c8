package atomicfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	for _, data := range []string{"old", "new"} {
		if err := Write(p, []byte(data), 0o640); err != nil {
			t.Fatalf("Write(%q) = %v", data, err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != data {
			t.Fatalf("after Write(%q): %q, %v", data, got, err)
		}
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after Write(0640) = %v, %v", fi.Mode(), err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("Write left %d entries, want the file alone: %v", len(ents), ents)
	}
}

func TestWriteInStaysInRoot(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := WriteIn(root, "link/f", []byte("x"), 0o600); err == nil {
		t.Error("WriteIn(link/f) through a symlink out of the root succeeded")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("WriteIn wrote outside its root: %v", ents)
	}
}

func TestLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	ctx := context.Background()
	sh1, err := Lock(ctx, p, false)
	if err != nil {
		t.Fatalf("Lock(shared) = %v", err)
	}
	sh2, err := Lock(ctx, p, false)
	if err != nil {
		t.Fatalf("second Lock(shared) = %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := Lock(short, p, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock(exclusive) while shared = %v, want the context's deadline", err)
	}
	sh1()
	sh2()
	ex, err := Lock(short, p, true)
	if err != nil {
		t.Fatalf("Lock(exclusive) once free = %v", err)
	}
	ex()
	if err := os.Symlink(p, p+".link"); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(ctx, p+".link", true); err == nil {
		t.Error("Lock through a symlink succeeded")
	}
}
