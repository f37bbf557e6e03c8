package netprobe

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestAttempt(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("fine")) })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	get := func(path string) []byte {
		return []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")
	}
	// A port nothing listens on: one just closed.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	// A server that accepts and never answers; and one answering garbage.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	garbage, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	go func() {
		for {
			c, err := garbage.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH\r\n"))
			c.Close()
		}
	}()
	tests := []struct {
		name         string
		addr         string
		request      []byte
		want         Result
		wantRedirect bool
	}{
		{name: "tcp open", addr: addr, want: Success},
		{name: "tcp refused", addr: closedAddr, want: Failure},
		{name: "http 200", addr: addr, request: get("/ok"), want: Success},
		{name: "http 404", addr: addr, request: get("/missing"), want: Failure},
		{name: "http 500", addr: addr, request: get("/broken"), want: Failure},
		{name: "http 302 is the supervisor's", addr: addr, request: get("/moved"), want: Unknown, wantRedirect: true},
		{name: "http refused", addr: closedAddr, request: get("/ok"), want: Failure},
		{name: "no answer within the timeout", addr: mute.Addr().String(), request: get("/ok"), want: Failure},
		{name: "not HTTP", addr: garbage.Addr().String(), request: get("/ok"), want: Failure},
		{name: "a host name", addr: "localhost:80", want: Unknown},
		{name: "no port", addr: "127.0.0.1", want: Unknown},
		{name: "IPv6 is written expanded", addr: "[::1]:80", want: Unknown},
		{name: "IPv6 refused", addr: "[0000:0000:0000:0000:0000:0000:0000:0001]:" + closedAddr[strings.LastIndexByte(closedAddr, ':')+1:], want: Failure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, redirect := Attempt(tc.addr, tc.request, 300*time.Millisecond)
			if got != tc.want || redirect != tc.wantRedirect {
				t.Errorf("Attempt(%q, %q) = %v, %v; want %v, %v", tc.addr, tc.request, got, redirect, tc.want, tc.wantRedirect)
			}
		})
	}
}

// TestStepAllocatesNothing: podsec-monitor makes an attempt every period
// for as long as the pod runs; garbage per attempt would grow its heap
// towards Go's minimum goal of 4 MiB and set the collector going. The
// server answers through raw system calls: it allocates nothing either,
// as AllocsPerRun counts the whole process.
func TestStepAllocatesNothing(t *testing.T) {
	addr := rawServer(t, []byte("HTTP/1.1 204 No Content\r\n\r\n"))
	for _, req := range [][]byte{nil, []byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")} {
		s := Spec{Kind: Readiness, PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
			StartedAt: time.Now(), Addr: addr, Request: req}
		s.Step(time.Now())
		if s.Result != Success {
			t.Fatalf("Step against %s (request %q): result %v, want success", addr, req, s.Result)
		}
		if n := testing.AllocsPerRun(50, func() { s.Step(time.Now()) }); n != 0 && !raceEnabled {
			t.Errorf("Step (request %q): %v allocations per attempt, want 0", req, n)
		}
		if s.Result != Success || s.Changed != true {
			t.Errorf("Step (request %q) after 50 attempts: %+v, want success", req, s.State)
		}
	}
}

// rawServer serves resp to every connection on 127.0.0.1, after reading
// what the client sent first, with system calls that allocate nothing.
func rawServer(t *testing.T, resp []byte) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 64); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	// Ends the accept loop: accept(2) on a shut-down socket fails.
	t.Cleanup(func() { unix.Shutdown(fd, unix.SHUT_RDWR); unix.Close(fd) })
	go func() {
		var buf [512]byte
		for {
			c, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, unix.SOCK_CLOEXEC, 0, 0)
			if errno != 0 {
				if errno == unix.EINTR {
					continue
				}
				return
			}
			if n, _ := unix.Read(int(c), buf[:]); n > 0 {
				unix.Write(int(c), resp)
			}
			unix.Close(int(c))
		}
	}()
	return "127.0.0.1:" + strconv.Itoa(sa.(*unix.SockaddrInet4).Port)
}
