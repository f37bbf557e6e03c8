package webhook

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for the batch log's writer and the
// test's reader.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestBatchLog: lines written from many goroutines all reach the output,
// whole and each goroutine's in order, in fewer writes than lines; what
// is left when the log stops is written then.
func TestBatchLog(t *testing.T) {
	var out lockedBuffer
	l := newBatchLog(&out)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		l.run(stop)
	}()
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(l, "writer %d line %d %s\n", w, i, strings.Repeat("x", i%50))
			}
		})
	}
	wg.Wait()
	close(stop)
	<-stopped
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, line := range got {
		var w, i int
		if _, err := fmt.Sscanf(line, "writer %d line %d", &w, &i); err != nil || i != next[w] || line != fmt.Sprintf("writer %d line %d %s", w, i, strings.Repeat("x", i%50)) {
			t.Fatalf("line %q: want writer %d's line %d, whole", line, w, next[w])
		}
		next[w]++
	}
	if len(got) != writers*lines {
		t.Errorf("%d lines written, want %d", len(got), writers*lines)
	}
	if out.writes >= writers*lines {
		t.Errorf("%d writes for %d lines, want them batched", out.writes, writers*lines)
	}
}
