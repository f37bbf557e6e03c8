package logs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPumpDetach hands a pump's pipes to a second pump halfway, as a
// supervisor hands them to its monitor: the log holds every line of both
// streams, a line cut by the hand-off as a partial record then its end.
func TestPumpDetach(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPump(path, outR, errR, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outW.WriteString("one\ntw")
	errW.WriteString("oops\n")
	// "one" is in the file once the read that brought "tw" is done.
	waitFor(t, "the first line in the log", func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), "one")
	})
	out, errf, err := p.Detach()
	if err != nil || out == nil || errf == nil {
		t.Fatalf("Detach() = %v, %v, %v", out, errf, err)
	}
	outW.WriteString("o\nthree\n")
	p2, err := NewPump(path, out, errf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	if err := p2.Finish(10 * time.Second); err != nil {
		t.Fatalf("Finish() = %v", err)
	}
	if err := p.Finish(0); err != nil {
		t.Errorf("Finish() of the detached pump = %v, want nil (nothing to do)", err)
	}
	var stdout, stderr strings.Builder
	if err := Read(context.Background(), path, ReadOptions{Tail: -1}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "one\ntwo\nthree\n" || stderr.String() != "oops\n" {
		t.Errorf("Read(%s) = %q, %q; want %q, %q", path, stdout.String(), stderr.String(), "one\ntwo\nthree\n", "oops\n")
	}
}
