package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rec writes a CRI record stamped t0 plus sec seconds.
func rec(sec int, stream, tag, content string) string {
	return t0.Add(time.Duration(sec)*time.Second).Format(time.RFC3339Nano) + " " + stream + " " + tag + " " + content + "\n"
}

func TestRead(t *testing.T) {
	// One rotated file and the current one.
	rotatedLog := rec(1, "stdout", "F", "one") +
		rec(2, "stderr", "F", "two") +
		rec(3, "stdout", "P", "thr")
	currentLog := rec(4, "stdout", "F", "ee") +
		rec(5, "stderr", "P", "fo") +
		rec(6, "stdout", "F", "five") +
		rec(7, "stderr", "F", "ur") +
		rec(8, "stdout", "F", "six")

	ts := func(sec int) string {
		return t0.Add(time.Duration(sec) * time.Second).Format(TimestampFormat)
	}
	tests := []struct {
		name       string
		opts       ReadOptions
		merged     bool // stderr nil: both to stdout
		wantOut    string
		wantErr    string
		wantMerged string
	}{
		{
			name:    "all, partial lines joined",
			opts:    ReadOptions{Tail: -1},
			wantOut: "one\nthree\nfive\nsix\n",
			wantErr: "two\nfour\n",
		},
		{
			name:   "merged into stdout",
			opts:   ReadOptions{Tail: -1},
			merged: true,
			// Interleaved partial lines mix, as in `kubectl logs`.
			wantMerged: "one\ntwo\nthree\nfofive\nur\nsix\n",
		},
		{
			name:    "tail 1",
			opts:    ReadOptions{Tail: 1},
			wantOut: "six\n",
		},
		{
			// The last three lines are four, five and six; "four" starts
			// before "five" with a partial record.
			name:    "tail 3 keeps an interleaved partial",
			opts:    ReadOptions{Tail: 3},
			wantOut: "five\nsix\n",
			wantErr: "four\n",
		},
		{
			name:    "tail across the rotated file",
			opts:    ReadOptions{Tail: 4},
			wantOut: "three\nfive\nsix\n",
			wantErr: "four\n",
		},
		{
			name:    "tail more than there is",
			opts:    ReadOptions{Tail: 100},
			wantOut: "one\nthree\nfive\nsix\n",
			wantErr: "two\nfour\n",
		},
		{
			name: "tail 0",
			opts: ReadOptions{Tail: 0},
		},
		{
			name:    "since keeps whole lines",
			opts:    ReadOptions{Tail: -1, Since: t0.Add(4 * time.Second)},
			wantOut: "five\nsix\n",
			wantErr: "four\n",
		},
		{
			name:    "timestamps once per line, from its first record",
			opts:    ReadOptions{Tail: 2, Timestamps: true},
			wantOut: ts(8) + " six\n",
			wantErr: ts(5) + " four\n",
		},
		{
			name:    "limit bytes",
			opts:    ReadOptions{Tail: -1, LimitBytes: 6},
			wantOut: "one\n",
			wantErr: "tw",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "0.log")
			writeFile(t, path+".20240101-120003", rotatedLog)
			writeFile(t, path, currentLog)
			var out, errb bytes.Buffer
			var err error
			if tc.merged {
				err = Read(context.Background(), path, tc.opts, &out, nil)
			} else {
				err = Read(context.Background(), path, tc.opts, &out, &errb)
			}
			if err != nil {
				t.Fatalf("Read(%+v) = %v", tc.opts, err)
			}
			if tc.merged {
				if out.String() != tc.wantMerged {
					t.Errorf("Read(%+v) merged = %q, want %q", tc.opts, out.String(), tc.wantMerged)
				}
				return
			}
			if out.String() != tc.wantOut || errb.String() != tc.wantErr {
				t.Errorf("Read(%+v) = stdout %q stderr %q, want %q %q", tc.opts, out.String(), errb.String(), tc.wantOut, tc.wantErr)
			}
		})
	}
}

func TestReadCorrupt(t *testing.T) {
	log := rec(1, "stdout", "F", "good") +
		"not a record\n" +
		"2024-01-01T12:00:02Z stdin F bad stream\n" +
		"2024-01-01T12:00:03Z stdout\n" +
		"\n" +
		rec(4, "stdout", "F:future", "tags are forward compatible") +
		rec(5, "stdout", "F", "after")
	for _, tail := range []int64{-1, 10} {
		t.Run(fmt.Sprint("tail ", tail), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			writeFile(t, path, log)
			var out bytes.Buffer
			corrupt := 0
			opts := ReadOptions{Tail: tail, OnCorrupt: func(_ string, _ []byte, err error) {
				if !errors.Is(err, ErrCorruptLine) {
					t.Errorf("OnCorrupt err = %v, want ErrCorruptLine", err)
				}
				corrupt++
			}}
			if err := Read(context.Background(), path, opts, &out, nil); err != nil {
				t.Fatal(err)
			}
			want := "good\ntags are forward compatible\nafter\n"
			if out.String() != want || corrupt != 4 {
				t.Errorf("Read = %q with %d corrupt, want %q with 4", out.String(), corrupt, want)
			}
		})
	}
}

func TestReadMissing(t *testing.T) {
	err := Read(context.Background(), filepath.Join(t.TempDir(), "0.log"), ReadOptions{Tail: -1}, &bytes.Buffer{}, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read(missing) = %v, want ErrNotExist", err)
	}
}

// TestRoundTrip writes through a rotating Writer and reads it all back.
func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w, err := NewWriter(path, WriterOptions{MaxSize: 4096, MaxFiles: 100, MaxLineSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 300 {
		line := fmt.Sprintf("%d %s\n", i, strings.Repeat("y", i%250))
		want.WriteString(line)
		w.Stream(Stdout).Write([]byte(line))
	}
	w.Close()
	var out bytes.Buffer
	if err := Read(context.Background(), path, ReadOptions{Tail: -1}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Errorf("Read after writing = %d bytes, want the %d written", out.Len(), want.Len())
	}
	out.Reset()
	if err := Read(context.Background(), path, ReadOptions{Tail: 2}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if wantTail := "298 " + strings.Repeat("y", 48) + "\n299 " + strings.Repeat("y", 49) + "\n"; out.String() != wantTail {
		t.Errorf("Read(Tail 2) = %q, want %q", out.String(), wantTail)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
