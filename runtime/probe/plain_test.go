package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// TestPlainAsDo: what podsec-monitor makes of a probe (Plain, then
// netprobe.Attempt) judges a server as Do does, except a redirect, which
// it gives back to the supervisor.
func TestPlainAsDo(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fine") })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		// Passes only with what the kubelet sends.
		if r.UserAgent() != "custom" || r.Header.Get("X-Probe") != "yes" || r.Host != "example.test" || r.Header.Get("Accept") != "*/*" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	port := intstr.FromInt32(int32(serverPort(t, srv)))
	target := Target{PodIP: "127.0.0.1", Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: port.IntVal}}}
	get := func(path string, hs ...corev1.HTTPHeader) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port, HTTPHeaders: hs}}}
	}
	tests := []struct {
		name         string
		probe        *corev1.Probe
		want         Result
		wantHandback bool
	}{
		{name: "200", probe: get("/ok"), want: Success},
		{name: "404", probe: get("/missing"), want: Failure},
		{name: "500", probe: get("/broken"), want: Failure},
		{name: "query kept", probe: get("/ok?x=1"), want: Success},
		{name: "headers", probe: get("/headers", corev1.HTTPHeader{Name: "User-Agent", Value: "custom"},
			corev1.HTTPHeader{Name: "X-Probe", Value: "yes"}, corev1.HTTPHeader{Name: "Host", Value: "example.test"}), want: Success},
		{name: "redirect", probe: get("/redirect"), wantHandback: true},
		{name: "tcp by port name", probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("web")}}}, want: Success},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Plain(Readiness, tc.probe, target)
			if err != nil {
				t.Fatalf("Plain(%s) = %v", tc.name, err)
			}
			got, redirect := netprobe.Attempt(s.Addr, s.Request, time.Second)
			if redirect != tc.wantHandback || (!redirect && got != tc.want) {
				t.Errorf("Attempt(Plain(%s)) = %v, redirect %v; want %v, redirect %v", tc.name, got, redirect, tc.want, tc.wantHandback)
			}
			if do, _ := Do(context.Background(), tc.probe, target); !redirect && do != got {
				t.Errorf("Do(%s) = %v, podsec-monitor's attempt %v", tc.name, do, got)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	httpGet := func(a corev1.HTTPGetAction) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &a}}
	}
	tcp := func(host string, port intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Host: host, Port: port}}}
	}
	tests := []struct {
		name     string
		probe    *corev1.Probe
		target   Target
		wantAddr string
		wantErr  string // in Spec.Err: every attempt Unknown
		notPlain bool
	}{
		{name: "pod IP", probe: tcp("", intstr.FromInt32(80)), target: Target{PodIP: "10.0.0.2"}, wantAddr: "10.0.0.2:80"},
		{name: "host network", probe: tcp("", intstr.FromInt32(80)), target: Target{HostNetwork: true}, wantAddr: "127.0.0.1:80"},
		{name: "IPv6 expanded", probe: tcp("fd00::2", intstr.FromInt32(80)), wantAddr: "[fd00:0000:0000:0000:0000:0000:0000:0002]:80"},
		{name: "no pod IP", probe: tcp("", intstr.FromInt32(80)), wantErr: "pod has no IP"},
		{name: "unknown port name", probe: tcp("", intstr.FromString("nope")), target: Target{PodIP: "10.0.0.2"}, wantErr: `port "nope" not found`},
		{name: "host name", probe: tcp("db.local", intstr.FromInt32(5432)), notPlain: true},
		{name: "https", probe: httpGet(corev1.HTTPGetAction{Scheme: corev1.URISchemeHTTPS, Port: intstr.FromInt32(443)}), target: Target{PodIP: "10.0.0.2"}, notPlain: true},
		{name: "header with a newline", probe: httpGet(corev1.HTTPGetAction{Port: intstr.FromInt32(80), HTTPHeaders: []corev1.HTTPHeader{{Name: "X", Value: "a\nb"}}}), target: Target{PodIP: "10.0.0.2"}, notPlain: true},
		{name: "exec", probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}, notPlain: true},
		{name: "grpc", probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9000}}}, notPlain: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Plain(Liveness, tc.probe, tc.target)
			if tc.notPlain {
				if !errors.Is(err, ErrNotPlain) {
					t.Errorf("Plain(%s) = %v, want ErrNotPlain", tc.name, err)
				}
				return
			}
			if err != nil || s.Addr != tc.wantAddr || !strings.Contains(s.Err, tc.wantErr) || (tc.wantErr == "") != (s.Err == "") {
				t.Errorf("Plain(%s) = %q (err %q), %v; want %q (err %q)", tc.name, s.Addr, s.Err, err, tc.wantAddr, tc.wantErr)
			}
			if s.PeriodSeconds != DefaultPeriodSeconds || s.TimeoutSeconds != DefaultTimeoutSeconds || s.FailureThreshold != DefaultFailureThreshold || s.SuccessThreshold != 1 {
				t.Errorf("Plain(%s): timing %+v, want the API server's defaults", tc.name, s)
			}
		})
	}
}
