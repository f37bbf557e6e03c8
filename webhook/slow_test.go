package webhook

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// TestSlowSendersDoNotStarve: clients that send a review's headers over
// TLS and then a few bytes of its body, and nothing more, three times as
// many as there are in-flight slots, do not keep the API server's
// reviews out: those are answered 200 while the slow senders wait.
// Before, each slow sender held a slot until the 10 s read timeout, and
// every other review got 429. Once the slow senders are gone, the bytes
// they held are given back.
func TestSlowSendersDoNotStarve(t *testing.T) {
	const inflight = 2
	cert, pool := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: seedStore(t), Cert: cert, MaxInflight: inflight}
	h := NewHandler(cfg)
	srv := &http.Server{Handler: h, TLSConfig: cfg.TLSConfig(), ReadTimeout: readTimeout}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	defer func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	addr := ln.Addr().String()
	body := podReview("u-legit", "CREATE", `{"name":"web"}`, `{"containers":[{"name":"c","image":"kubia"}]}`)

	// Slow senders: headers, 16 bytes of a 100 KB body, then silence.
	var slow []net.Conn
	defer func() {
		for _, c := range slow {
			c.Close()
		}
	}()
	for range 3 * inflight {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		slow = append(slow, c)
		if _, err := fmt.Fprintf(c, "POST /mutate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n%s", addr, body[:16]); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the slow senders' requests are in the handler: their
	// bytes are being read (or, before, their slots are taken).
	for h.bodies.used.Load() < int64(16*len(slow)) && len(h.slots) < inflight {
		runtime.Gosched()
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	for i := range 2 * inflight {
		resp, err := client.Post("https://"+addr+"/mutate", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(data, []byte(`"uid":"u-legit"`)) {
			t.Errorf("review %d with %d slow senders waiting: %s %.200s, want 200 and its answer", i, len(slow), resp.Status, data)
		}
	}
	for _, c := range slow {
		c.Close()
	}
	for h.bodies.used.Load() != 0 {
		runtime.Gosched()
	}
}

// TestBodyBudget: a body takes its bytes as they are read, past the
// budget it fails with errBudget (its last read not taken), and what it
// held is given back.
func TestBodyBudget(t *testing.T) {
	b := &bodyBudget{max: 100}
	first := &budgetReader{r: strings.NewReader(strings.Repeat("a", 60)), b: b}
	second := &budgetReader{r: strings.NewReader(strings.Repeat("b", 60)), b: b}
	if data, err := io.ReadAll(first); err != nil || len(data) != 60 {
		t.Fatalf("first body: %d bytes, %v; want 60", len(data), err)
	}
	if _, err := io.ReadAll(second); !errors.Is(err, errBudget) || b.used.Load() != 60 {
		t.Fatalf("second body: %v with %d used; want errBudget with 60 used", err, b.used.Load())
	}
	first.release()
	second.release()
	if b.used.Load() != 0 {
		t.Fatalf("%d bytes used after release, want 0", b.used.Load())
	}
	third := &budgetReader{r: strings.NewReader(strings.Repeat("c", 100)), b: b}
	if data, err := io.ReadAll(third); err != nil || len(data) != 100 {
		t.Fatalf("third body: %d bytes, %v; want the whole budget", len(data), err)
	}
}

// TestBodyTooLarge: a body past MaxReviewBytes is refused 413, whether
// its length is announced (before anything is read) or not (chunked, as
// soon as it passes the limit), and gives back the budget it took.
func TestBodyTooLarge(t *testing.T) {
	h := NewHandler(Config{Store: seedStore(t)})
	big := strings.Repeat(" ", MaxReviewBytes+1)
	for _, announced := range []bool{true, false} {
		req := httptest.NewRequest(http.MethodPost, "/validate", io.MultiReader(strings.NewReader(big)))
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = -1
		if announced {
			req.ContentLength = int64(len(big))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || h.bodies.used.Load() != 0 {
			t.Errorf("POST /validate of %d bytes (length announced: %v): %d %q with %d bytes of budget held; want 413 and none",
				len(big), announced, rec.Code, rec.Body, h.bodies.used.Load())
		}
	}
}
