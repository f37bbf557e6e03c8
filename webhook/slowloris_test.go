package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// TestSlowHeaders: a client that sends part of a request's headers over
// TLS and then nothing, and one that never finishes the TLS handshake,
// are disconnected by the server (ReadHeaderTimeout and the handshake
// deadline, 5 s) rather than held for as long as they like; the wait is
// bounded by a deadline far past those only so that a regression fails
// instead of hanging. (An HTTP/2 header block left without its end opens
// no stream: it is held until the 90 s idle timeout, as an idle
// connection is; docs/security.md.)
func TestSlowHeaders(t *testing.T) {
	cert, pool := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Config{Store: seedStore(t), Cert: cert}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := ln.Addr().String()
	clients := map[string]func() (net.Conn, error){
		"http/1.1 headers": func() (net.Conn, error) {
			c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
			if err == nil {
				_, err = fmt.Fprintf(c, "POST /mutate HTTP/1.1\r\nHost: %s\r\nContent-Ty", addr)
			}
			return c, err
		},
		"TLS handshake never finished": func() (net.Conn, error) {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				_, err = c.Write([]byte{0x16, 0x03, 0x01})
			}
			return c, err
		},
	}
	var wg sync.WaitGroup
	for name, dial := range clients {
		wg.Go(func() {
			c, err := dial()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			defer c.Close()
			if err := c.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
				t.Error(err)
				return
			}
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					if errors.Is(err, os.ErrDeadlineExceeded) {
						t.Errorf("%s: the server still held the connection after 60 s", name)
					}
					return
				}
			}
		})
	}
	wg.Wait()
}
