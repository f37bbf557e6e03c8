package webhook

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/test/harness"
)

// processConcurrency is the number of reviews the benchmark client keeps
// in flight: the API server sends a webhook the reviews of many requests
// at once, over one HTTP/2 connection.
const processConcurrency = 16

// BenchmarkWebhookProcess measures the real server, `podsec webhook`, as
// a cluster runs it: a process of its own, pinned to CPU 0, with the
// client in this process pinned to the last CPU, so that neither takes
// the other's core. It reports admissions/s and the CPU time of each
// side per admission (server from /proc/PID/stat, client from
// getrusage): server-cpu-µs/op is what a review costs the webhook,
// whatever the client costs. The client speaks HTTP/2 over one connection
// (h2, as the API server calls webhooks) and HTTP/1.1 over keep-alive
// connections (http1.1), processConcurrency reviews in flight.
//
// The binary is $PODSEC_BIN, else ../bin/podsec, else one built here.
func BenchmarkWebhookProcess(b *testing.B) {
	if runtime.NumCPU() < 2 {
		b.Skip("needs two CPUs: one for the server, one for the client")
	}
	bin := podsecBin(b)
	root := b.TempDir()
	clusterStoreIn(b, filepath.Join(root, "objects"))
	cert, pool := selfSigned(b)
	certFile, keyFile := writeKeyPair(b, root, cert)
	proc := startServer(b, filepath.Join(root, "webhook.log"), "taskset", "-c", "0", bin, "--root", filepath.Join(root, "objects"), "webhook",
		"--listen", "127.0.0.1:0", "--tls-cert-file", certFile, "--tls-private-key-file", keyFile,
		"--max-inflight", strconv.Itoa(2*processConcurrency))
	restore := pinSelf(b, runtime.NumCPU()-1)
	defer restore()

	for _, proto := range []string{"h2", "http1.1"} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: processConcurrency}
		if proto == "h2" {
			tr.ForceAttemptHTTP2 = true
		}
		client := &http.Client{Transport: tr}
		for _, rv := range storeReviews(b) {
			b.Run(proto+"/"+rv.name, func(b *testing.B) {
				post := func() (int, []byte, error) {
					resp, err := client.Post(proc.url, "application/json", bytes.NewReader(rv.body))
					if err != nil {
						return 0, nil, err
					}
					defer resp.Body.Close()
					data, err := io.ReadAll(resp.Body)
					if err == nil && resp.Proto != map[string]string{"h2": "HTTP/2.0", "http1.1": "HTTP/1.1"}[proto] {
						err = fmt.Errorf("answered over %s, want %s", resp.Proto, proto)
					}
					return resp.StatusCode, data, err
				}
				code, data, err := post()
				if err != nil {
					b.Fatal(err)
				}
				checkAnswer(b, rv, code, data)
				b.ReportAllocs()
				server, client := proc.cpu(b), selfCPU(b)
				b.SetParallelism(processConcurrency)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if code, _, err := post(); err != nil || code != http.StatusOK {
							b.Errorf("POST /mutate %s: %d %v", rv.name, code, err)
							return
						}
					}
				})
				b.StopTimer()
				server, client = proc.cpu(b)-server, selfCPU(b)-client
				n := float64(b.N)
				b.ReportMetric(n/b.Elapsed().Seconds(), "admissions/s")
				b.ReportMetric(float64(server.Microseconds())/n, "server-cpu-µs/op")
				b.ReportMetric(float64(client.Microseconds())/n, "client-cpu-µs/op")
				b.ReportMetric(n/server.Seconds(), "admissions/server-cpu-s")
			})
		}
		client.CloseIdleConnections()
	}
}

// podsecBin is the podsec binary the process benchmark runs.
func podsecBin(b *testing.B) string {
	if p := os.Getenv("PODSEC_BIN"); p != "" {
		return p
	}
	if p, err := filepath.Abs("../bin/podsec"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return buildPodsec(b)
}

// writeKeyPair writes cert's certificate and key as PEM files under dir.
func writeKeyPair(b testing.TB, dir string, cert tls.Certificate) (certFile, keyFile string) {
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		b.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for f, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: cert.Certificate[0]}, keyFile: {Type: "PRIVATE KEY", Bytes: key}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(block), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return certFile, keyFile
}

// serverProc is a webhook server the benchmark started.
type serverProc struct {
	pid int
	url string
}

// startServer runs name with args, which must run `podsec webhook`, with
// its log in logFile, and returns once it serves; it is stopped by its PID
// when b ends. The log is a file, not a pipe this process reads: reading
// a line per review would be the client's CPU.
func startServer(b testing.TB, logFile, name string, args ...string) *serverProc {
	log, err := os.Create(logFile)
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cmd.Wait()
	}()
	harness.StopAtCleanup(b, cmd.Process, done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(30 * time.Second)
	for {
		said, _ := os.ReadFile(logFile)
		if _, rest, ok := strings.Cut(string(said), "serving https://"); ok && strings.Contains(rest, "\n") {
			return &serverProc{pid: cmd.Process.Pid, url: "https://" + strings.Fields(rest)[0] + "/mutate"}
		}
		select {
		case <-done:
			b.Fatalf("podsec webhook ended before serving:\n%s", said)
		case <-timeout:
			b.Fatalf("podsec webhook did not serve within 30s:\n%s", said)
		case <-tick.C:
		}
	}
}

// cpu is the server's CPU time (user and system) so far.
func (p *serverProc) cpu(b *testing.B) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 14th and 15th of the line, in clock ticks.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on Linux.
const clockTicks = 100

// selfCPU is this process's CPU time (user and system) so far.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pinSelf pins every thread of this process to cpu and runs Go on one
// CPU; the function it returns undoes both.
func pinSelf(b *testing.B, cpu int) func() {
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		b.Fatal(err)
	}
	var one unix.CPUSet
	one.Set(cpu)
	setAll := func(set *unix.CPUSet) {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range tasks {
			tid, _ := strconv.Atoi(t.Name())
			// A thread may have ended since the listing.
			_ = unix.SchedSetaffinity(tid, set)
		}
	}
	setAll(&one)
	procs := runtime.GOMAXPROCS(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			runtime.GOMAXPROCS(procs)
			setAll(&was)
		})
	}
}
