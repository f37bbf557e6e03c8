package logs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock returns t and then advances it by step.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

var t0 = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

type write struct{ stream, data string }

// records returns the file's records as "stream tag content".
func records(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l == "" {
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			t.Fatalf("%s: record %q has no newline", path, l)
		}
		e, err := parseRecord([]byte(strings.TrimSuffix(l, "\n")))
		if err != nil {
			t.Fatalf("%s: parseRecord(%q): %v", path, l, err)
		}
		tag := "F"
		if e.partial {
			tag = "P"
		}
		out = append(out, e.stream+" "+tag+" "+string(e.content))
	}
	return out
}

func TestWriterRecords(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []write
		want   []string
	}{
		{
			name:   "lines",
			writes: []write{{"stdout", "a\nb\n"}, {"stdout", "\n"}},
			want:   []string{"stdout F a", "stdout F b", "stdout F "},
		},
		{
			name:   "line across writes",
			writes: []write{{"stdout", "hel"}, {"stdout", "lo\nwor"}, {"stdout", "ld\n"}},
			want:   []string{"stdout F hello", "stdout F world"},
		},
		{
			name:   "crlf is a newline",
			writes: []write{{"stdout", "a\r\nb\r"}, {"stdout", "\n"}},
			want:   []string{"stdout F a", "stdout F b"},
		},
		{
			name:   "unterminated at close is partial",
			writes: []write{{"stderr", "prompt: "}},
			want:   []string{"stderr P prompt: "},
		},
		{
			name:   "long line split",
			max:    4,
			writes: []write{{"stdout", "abcdefghij\n"}},
			want:   []string{"stdout P abcd", "stdout P efgh", "stdout F ij"},
		},
		{
			name:   "exactly max is one record",
			max:    4,
			writes: []write{{"stdout", "abcd\n"}},
			want:   []string{"stdout F abcd"},
		},
		{
			name:   "long line without newline split as it arrives",
			max:    4,
			writes: []write{{"stdout", "abc"}, {"stdout", "defgh"}, {"stdout", "ij"}},
			want:   []string{"stdout P abcd", "stdout P efgh", "stdout P ij"},
		},
		{
			name: "streams interleave",
			writes: []write{
				{"stdout", "out1 "}, {"stderr", "err1\n"}, {"stdout", "more\n"}, {"stderr", "err2"},
			},
			want: []string{"stderr F err1", "stdout F out1 more", "stderr P err2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			clk := &fakeClock{t: t0, step: time.Millisecond}
			w, err := NewWriter(path, WriterOptions{MaxLineSize: tc.max, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			for _, wr := range tc.writes {
				if n, err := w.Stream(wr.stream).Write([]byte(wr.data)); err != nil || n != len(wr.data) {
					t.Fatalf("Write(%q) = %d, %v", wr.data, n, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := records(t, path); !slices.Equal(got, tc.want) {
				t.Errorf("records = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []WriterOptions{{MaxFiles: 1}, {MaxSize: -1}, {MaxLineSize: -1}} {
		if _, err := NewWriter(filepath.Join(dir, "x.log"), opts); err == nil {
			t.Errorf("NewWriter(%+v) = nil error, want one", opts)
		}
	}
	w, err := NewWriter(filepath.Join(dir, "0.log"), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Stream("stdin").Write([]byte("x\n")); err == nil {
		t.Error(`Stream("stdin").Write = nil error, want ErrUnknownStream`)
	}
	w.Close()
	if _, err := w.Stream(Stdout).Write([]byte("x\n")); err != ErrClosed {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestWriterConcurrentStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w, err := NewWriter(path, WriterOptions{MaxLineSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, s := range []string{Stdout, Stderr} {
		wg.Go(func() {
			for range 200 {
				w.Stream(s).Write([]byte(s + "-" + strings.Repeat("x", 10) + "\n"))
			}
		})
	}
	wg.Wait()
	w.Close()
	count := map[string]int{}
	for _, r := range records(t, path) {
		count[r[:len("stdout F")]]++
	}
	// "stdout-xxxxxxxxxx" is 17 bytes: P 8, P 8, F 1.
	want := map[string]int{"stdout P": 400, "stdout F": 200, "stderr P": 400, "stderr F": 200}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("records %q = %d, want %d", k, count[k], v)
		}
	}
}

func TestWriterRotation(t *testing.T) {
	tests := []struct {
		name      string
		step      time.Duration
		lines     int
		maxFiles  int
		wantFiles []string
	}{
		{
			// A record ("2024-01-01T12:00:00Z stdout F line-a\n") is 37
			// bytes, so MaxSize 100 holds two. The clock ticks a second per
			// call, and a rotation calls it after the record that causes
			// it: rotations at 3, 6, 9, 12 s; MaxFiles 3 keeps the last two.
			name: "keeps max files", step: time.Second, lines: 10, maxFiles: 3,
			wantFiles: []string{"0.log", "0.log.20240101-120009", "0.log.20240101-120012"},
		},
		{
			name: "same second gets a sequence", step: 0, lines: 7, maxFiles: 5,
			wantFiles: []string{"0.log", "0.log.20240101-120000", "0.log.20240101-120000.1", "0.log.20240101-120000.2"},
		},
		{
			// A freed lower sequence is not reused: it would sort first.
			name: "same second with removals", step: 0, lines: 9, maxFiles: 2,
			wantFiles: []string{"0.log", "0.log.20240101-120000.3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "0.log")
			clk := &fakeClock{t: t0, step: tc.step}
			w, err := NewWriter(path, WriterOptions{MaxSize: 100, MaxFiles: tc.maxFiles, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.lines {
				if _, err := w.Stream(Stdout).Write([]byte("line-" + string(rune('a'+i)) + "\n")); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()
			des, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, de := range des {
				got = append(got, de.Name())
				if st, _ := de.Info(); st.Size() > 100 {
					t.Errorf("%s is %d bytes, over MaxSize 100", de.Name(), st.Size())
				}
			}
			if !slices.Equal(got, tc.wantFiles) {
				t.Errorf("files = %q, want %q", got, tc.wantFiles)
			}
			// The newest lines survive, in order, across the files.
			var all []string
			rs, _ := listRotated(path)
			for _, r := range rs {
				all = append(all, records(t, r.path)...)
			}
			all = append(all, records(t, path)...)
			for i, r := range all {
				if want := "stdout F line-" + string(rune('a'+tc.lines-len(all)+i)); r != want {
					t.Errorf("record %d of the kept files = %q, want %q", i, r, want)
				}
			}
		})
	}
}

func TestParseRotated(t *testing.T) {
	tests := []struct {
		suffix string
		ok     bool
	}{
		{"20240101-120000", true},
		{"20240101-120000.3", true},
		{"20240101-120000.gz", false},
		{"20240101-120000.03", false},
		{"20240101-1200", false},
		{"tmp", false},
	}
	for _, tc := range tests {
		if _, ok := parseRotated(tc.suffix); ok != tc.ok {
			t.Errorf("parseRotated(%q) ok = %v, want %v", tc.suffix, ok, tc.ok)
		}
	}
}
