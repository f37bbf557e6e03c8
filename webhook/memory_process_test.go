package webhook

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bounds of TestProcessMemoryBound. The real webhook runs with its
// defaults: GOGC=400, a 128 MiB soft memory limit, 2 x GOMAXPROCS
// reviews in flight. Its peak RSS is the runtime and binary (about 30
// MiB) and the reviews in flight: the worst review the limits let
// through, 65,000 volume mounts in 3 MiB, takes about 30 MiB decoded and
// decided, four of them about 150 MiB at the peak. 256 MiB is the abuse
// suite's bound (test/abuse TestWebhookFlood); past 1 GiB the test stops
// the webhook rather than let it take the node.
const (
	processPeakKiB  = 256 << 10
	processGuardKiB = 1 << 20
)

// amplifiedReview is a 3 MiB CREATE review by alice whose pod repeats
// unit (a JSON object and a comma) at most n times where %s is in spec.
func amplifiedReview(unit, spec string, n int) []byte {
	n = min((3<<20-2000)/len(unit), n)
	return []byte(podReview("u-amp", "CREATE", `{"name":"web"}`, strings.Replace(spec, "%s", strings.Repeat(unit, n), 1)))
}

// TestProcessMemoryBound sends the real webhook waves of 3 MiB reviews
// whose pods are many small objects, each decoding to a struct dozens of
// times its JSON's size, 12 at once on connections of their own: its
// peak RSS stays under processPeakKiB, every review is answered (200, or
// 429 past the in-flight limit) within the API server's 10 s, and a
// plain review is answered once the wave is over. Before the limits on a
// pod's lists and a review's objects, four reviews of empty volume
// mounts took it to 1.4 GB and 12 s. PODSEC_ATTACK_PODSEC runs it
// against another build.
func TestProcessMemoryBound(t *testing.T) {
	bin := treeBin(t)
	root := t.TempDir()
	seedStoreIn(t, filepath.Join(root, "objects"))
	cert, pool := selfSigned(t)
	certFile, keyFile := writeKeyPair(t, root, cert)
	proc := startServer(t, filepath.Join(root, "webhook.log"), bin, "--root", filepath.Join(root, "objects"), "webhook",
		"--listen", "127.0.0.1:0", "--tls-cert-file", certFile, "--tls-private-key-file", keyFile)
	base := strings.TrimSuffix(proc.url, "/mutate")
	post := func(path string, body []byte) (int, error) {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
		defer client.CloseIdleConnections()
		resp, err := client.Post(base+path, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	// The guard: the webhook is stopped past processGuardKiB.
	stop, watched := make(chan struct{}), make(chan bool)
	go func() {
		killed := false
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				watched <- killed
				return
			case <-tick.C:
				if !killed && procStatusKiB(proc.pid, "VmRSS") > processGuardKiB {
					if p, err := os.FindProcess(proc.pid); err == nil && p.Kill() == nil {
						killed = true
					}
				}
			}
		}
	}()
	waves := []struct{ name, unit, spec string }{
		{"volume mounts", `{},`, `{"containers":[{"name":"c","image":"i","volumeMounts":[%s{"name":"x","mountPath":"/x"}]}]}`},
		{"named volume mounts", `{"name":"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv","mountPath":"/x"},`, `{"containers":[{"name":"c","image":"i","volumeMounts":[%s{"name":"x","mountPath":"/x"}]}]}`},
		{"containers", `{},`, `{"containers":[%s{"name":"c","image":"i"}]}`},
		{"tolerations", `{},`, `{"containers":[{"name":"c","image":"i"}],"tolerations":[%s{}]}`},
	}
	for _, wave := range waves {
		body := amplifiedReview(wave.unit, wave.spec, 65_000)
		if wave.unit == `{},` {
			body = amplifiedReview(wave.unit, wave.spec, 1<<30)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for range 12 {
			wg.Go(func() {
				code, err := post("/mutate", body)
				mu.Lock()
				defer mu.Unlock()
				codes[code]++
				if err != nil {
					t.Errorf("%s: POST /mutate: %v", wave.name, err)
				}
			})
		}
		wg.Wait()
		t.Logf("%s (%d KiB): answers %v, webhook peak RSS so far %d MiB", wave.name, len(body)>>10, codes, procStatusKiB(proc.pid, "VmHWM")>>10)
		if codes[http.StatusOK] == 0 || codes[http.StatusOK]+codes[http.StatusTooManyRequests] != 12 {
			t.Errorf("%s: answers %v, want 200s and 429s only", wave.name, codes)
		}
	}
	peak := procStatusKiB(proc.pid, "VmHWM")
	close(stop)
	if <-watched {
		t.Fatalf("the webhook passed %d MiB of RSS and was stopped", processGuardKiB>>10)
	}
	if peak > processPeakKiB {
		t.Errorf("webhook peak RSS %d MiB, want under %d MiB", peak>>10, processPeakKiB>>10)
	}
	if code, err := post("/validate", []byte(podReview("u-after", "CREATE", `{"name":"web"}`, `{"containers":[{"name":"c","image":"kubia"}]}`))); code != http.StatusOK {
		t.Errorf("a plain review after the waves: %d %v, want 200", code, err)
	}
}

// procStatusKiB reads a "VmHWM:"-style line of /proc/PID/status in KiB;
// 0 once the process is gone.
func procStatusKiB(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// treeBin is podsec built from this tree (never a bin/podsec that may be
// older), or $PODSEC_ATTACK_PODSEC to run a test against another build.
func treeBin(t testing.TB) string {
	if p := os.Getenv("PODSEC_ATTACK_PODSEC"); p != "" {
		return p
	}
	return buildPodsec(t)
}

// buildPodsec builds podsec from this tree into a temporary directory.
func buildPodsec(tb testing.TB) string {
	out := filepath.Join(tb.TempDir(), "podsec")
	cmd := exec.Command("go", "build", "-tags", "seccomp", "-o", out, "./cmd/podsec")
	cmd.Dir = ".."
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/podsec: %v\n%s", err, msg)
	}
	return out
}
