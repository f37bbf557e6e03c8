package image

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-units"
)

// progress reports layer work to a writer: a redrawn bar per layer when
// the writer is a terminal, plain lines otherwise. A nil *progress or
// one with a nil writer says nothing.
type progress struct {
	w   io.Writer
	tty bool

	mu   sync.Mutex
	bars map[string]*bar // by blob digest, for the download counter
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, bars: map[string]*bar{}}
	if f, ok := w.(*os.File); ok {
		p.tty = isTerminal(f)
	}
	return p
}

func (p *progress) line(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

type bar struct {
	p     *progress
	name  string
	total int64
	n     int64
	last  time.Time
}

// start begins the report of one layer; blob is its (compressed) digest,
// the key of the bytes the download counter sees, and total its size.
func (p *progress) start(diffID, blob string, total int64) *bar {
	b := &bar{p: p, name: short(diffID), total: total}
	if p == nil || p.w == nil {
		return b
	}
	p.mu.Lock()
	if blob != "" {
		p.bars[blob] = b
	}
	p.mu.Unlock()
	if !p.tty {
		if total > 0 {
			p.line("%s: unpacking (%s compressed)", b.name, units.HumanSize(float64(total)))
		} else {
			p.line("%s: unpacking", b.name)
		}
	}
	return b
}

// add counts n downloaded bytes of the blob.
func (p *progress) add(blob string, n int) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.bars[blob]
	if b == nil {
		return
	}
	b.n += int64(n)
	if p.tty && time.Since(b.last) > 100*time.Millisecond {
		b.last = time.Now()
		fmt.Fprintf(p.w, "\r\x1b[K%s: %s", b.name, b.render())
	}
}

func (b *bar) render() string {
	const width = 30
	if b.total <= 0 {
		return units.HumanSize(float64(b.n))
	}
	fill := int(float64(width) * float64(min(b.n, b.total)) / float64(b.total))
	return fmt.Sprintf("[%s%s] %s/%s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		units.HumanSize(float64(b.n)), units.HumanSize(float64(b.total)))
}

func (b *bar) done(size int64) {
	b.finish(fmt.Sprintf("done (%s unpacked)", units.HumanSize(float64(size))))
}

func (b *bar) fail() { b.finish("failed") }

func (b *bar) finish(msg string) {
	p := b.p
	if p == nil || p.w == nil {
		return
	}
	if p.tty {
		p.line("\r\x1b[K%s: %s", b.name, msg)
		return
	}
	p.line("%s: %s", b.name, msg)
}

// countingTransport feeds the bytes of blob downloads to a progress.
type countingTransport struct {
	next http.RoundTripper
	p    *progress
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || t.p == nil {
		return resp, err
	}
	if blob := blobOf(req); blob != "" && req.Method == http.MethodGet {
		resp.Body = &countingBody{ReadCloser: resp.Body, p: t.p, blob: blob}
	}
	return resp, nil
}

// blobOf returns the digest of a blob request, following redirects back
// to the registry's URL (blobs are often served from elsewhere).
func blobOf(req *http.Request) string {
	for r := req; r != nil; {
		if i := strings.LastIndex(r.URL.Path, "/blobs/"); i >= 0 {
			return r.URL.Path[i+len("/blobs/"):]
		}
		if r.Response == nil {
			break
		}
		r = r.Response.Request
	}
	return ""
}

type countingBody struct {
	io.ReadCloser
	p    *progress
	blob string
}

func (c *countingBody) Read(b []byte) (int, error) {
	n, err := c.ReadCloser.Read(b)
	c.p.add(c.blob, n)
	return n, err
}
