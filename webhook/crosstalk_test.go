package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// crossTalkReview is review i of client c: its own UID, pod name, image
// and number of containers (so its own patch paths on /mutate), refused
// on /validate for every third (hostNetwork, with the pod's name in the
// message).
func crossTalkReview(c, i int) (path string, body []byte) {
	uid := fmt.Sprintf("uid-%d-%d", c, i)
	var containers []string
	for k := range 1 + (c+i)%4 {
		containers = append(containers, fmt.Sprintf(`{"name":"c%d","image":"img-%s-%d"}`, k, uid, k))
	}
	hostNetwork := ""
	path = "/mutate"
	if i%3 == 0 {
		hostNetwork, path = `"hostNetwork":true,`, "/validate"
	}
	meta := fmt.Sprintf(`{"name":"pod-%s","annotations":{"owner":%q},"labels":{"uid":%q}}`, uid, uid, uid)
	spec := `{` + hostNetwork + `"containers":[` + strings.Join(containers, ",") + `]}`
	return path, []byte(podReview(uid, "CREATE", meta, spec))
}

// TestCrossTalk sends reviews of distinct UIDs and pods on many HTTP/2
// streams over each of several TLS connections at once, as the API
// server does, and wants each answer byte for byte the one the handler
// gives that review alone: the pooled body and answer buffers, the
// workers and the batched log must not mix one review's UID, patch or
// refusal into another's. Run it with -race too.
func TestCrossTalk(t *testing.T) {
	const (
		conns   = 4
		streams = 24
		each    = 12
	)
	st := seedStore(t)
	// The reference: each review alone, through a handler of its own.
	ref := NewHandler(Config{Store: st})
	want := map[string][]byte{}
	for c := range conns * streams {
		for i := range each {
			path, body := crossTalkReview(c, i)
			rec, _ := serve(t, ref, path, string(body))
			if rec.Code != http.StatusOK {
				t.Fatalf("reference POST %s: %d %s", path, rec.Code, rec.Body)
			}
			want[string(body)] = rec.Body.Bytes()
		}
	}

	cert, pool := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, Config{Store: st, Cert: cert, MaxInflight: conns * streams, Log: &log})
	}()
	base := "https://" + ln.Addr().String()
	var wg sync.WaitGroup
	for conn := range conns {
		// One connection per transport: its requests are streams of it.
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		for s := range streams {
			c := conn*streams + s
			wg.Go(func() {
				for i := range each {
					path, body := crossTalkReview(c, i)
					resp, err := client.Post(base+path, "application/json", bytes.NewReader(body))
					if err != nil {
						t.Errorf("POST %s (client %d, review %d): %v", path, c, i, err)
						return
					}
					got, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
						t.Errorf("POST %s (client %d, review %d): %s %s %v, want 200 over HTTP/2", path, c, i, resp.Proto, resp.Status, err)
						return
					}
					if w := want[string(body)]; !bytes.Equal(got, w) {
						t.Errorf("POST %s (client %d, review %d) answered\n%s\nwant\n%s", path, c, i, got, w)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	// Every review has its line, whole, with its own pod.
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != conns*streams*each {
		t.Fatalf("%d log lines for %d reviews", len(lines), conns*streams*each)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var uid, rest string
		if _, err := fmt.Sscanf(l[strings.Index(l, " pod team/pod-")+len(" pod team/pod-"):], "%s %s", &uid, &rest); err != nil || seen[uid] || !strings.HasPrefix(l, "podsec webhook: ") {
			t.Errorf("log line %q: not one whole line of its own review", l)
		}
		seen[uid] = true
		if refused := strings.Contains(l, "refused: "); refused != strings.Contains(l, "validate") ||
			refused && !strings.Contains(l, `pods "pod-`+uid+`" is forbidden`) {
			t.Errorf("log line %q: refusal of another pod, or a verdict of another review", l)
		}
	}
}
