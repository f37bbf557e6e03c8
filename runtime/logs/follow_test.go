package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while Read writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits, at most 10 s, for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// startRead runs Read in a goroutine; the returned func waits, at most
// 10 s, for it to return.
func startRead(ctx context.Context, t *testing.T, path string, opts ReadOptions, out *syncBuffer) func() error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Read(ctx, path, opts, out, nil) }()
	return func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Read did not return within 10s")
			return nil
		}
	}
}

func TestFollow(t *testing.T) {
	tests := []struct {
		name     string
		tail     int64
		before   int // lines written before Read starts
		maxFiles int
	}{
		{name: "all, across rotations", tail: -1, before: 3, maxFiles: 1000},
		{name: "tail 1, across rotations", tail: 1, before: 3, maxFiles: 1000},
		{name: "old files removed meanwhile", tail: 2, before: 3, maxFiles: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			w, err := NewWriter(path, WriterOptions{MaxSize: 256, MaxFiles: tc.maxFiles})
			if err != nil {
				t.Fatal(err)
			}
			line := func(i int) string { return fmt.Sprintf("line %d\n", i) }
			var want strings.Builder
			for i := range tc.before {
				w.Stream(Stdout).Write([]byte(line(i)))
				if int64(i) >= int64(tc.before)-tc.tail || tc.tail < 0 {
					want.WriteString(line(i))
				}
			}
			stop := make(chan struct{})
			out := &syncBuffer{}
			wait := startRead(context.Background(), t, path,
				ReadOptions{Follow: true, Tail: tc.tail, Stop: stop, PollInterval: time.Millisecond}, out)

			// Lines written from now on come after the tail.
			tailed := want.String()
			waitFor(t, "the tail", func() bool { return out.String() == tailed })

			w.Stream(Stdout).Write([]byte("first new\n"))
			want.WriteString("first new\n")
			waitFor(t, "the first new line", func() bool { return strings.Contains(out.String(), "first new\n") })

			// Each write of a line waits for it to show, so rotations
			// interleave with reads; with maxFiles 2 the reader must not
			// fall behind the removal of files it has not read.
			for i := 100; i < 140; i++ {
				w.Stream(Stdout).Write([]byte(line(i)))
				want.WriteString(line(i))
				if tc.maxFiles == 2 {
					waitFor(t, line(i), func() bool { return strings.HasSuffix(out.String(), line(i)) })
				}
			}
			w.Stream(Stdout).Write([]byte("no newline"))
			want.WriteString("no newline")
			w.Close()
			close(stop)
			if err := wait(); err != nil {
				t.Fatalf("Read = %v", err)
			}
			if out.String() != want.String() {
				t.Errorf("Read(Follow) =\n%s\nwant\n%s", out.String(), want.String())
			}
		})
	}
}

func TestFollowContextEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w, err := NewWriter(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	wait := startRead(ctx, t, path, ReadOptions{Follow: true, Tail: -1, PollInterval: time.Millisecond}, out)
	w.Stream(Stderr).Write([]byte("hello\n"))
	waitFor(t, "hello", func() bool { return out.String() == "hello\n" })
	cancel()
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel = %v, want context.Canceled", err)
	}
}
