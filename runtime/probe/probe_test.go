package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func serverPort(t *testing.T, srv *httptest.Server) int {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDoHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fine") })
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		// Another host name for the same server: not followed, so no
		// traffic leaves 127.0.0.1 either way.
		http.Redirect(w, r, "http://localhost:"+r.URL.Query().Get("port")+"/missing", http.StatusFound)
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s|%s|%s|%s", r.UserAgent(), r.Header.Get("Accept"), r.Header.Get("X-Probe"), r.Host)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Repeat("b", 20<<10)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	port := serverPort(t, srv)
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()

	get := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: path, Port: intstr.FromInt32(int32(port)),
		}}}
	}
	target := Target{PodIP: "127.0.0.1"}
	tests := []struct {
		name     string
		probe    *corev1.Probe
		target   Target
		want     Result
		wantOut  string // contained in the output
		wantSize int    // if set, the output length
	}{
		{name: "200", probe: get("/ok"), want: Success, wantOut: "fine"},
		{name: "204", probe: get("/nocontent"), want: Success},
		{name: "same-host redirect followed", probe: get("/redirect"), want: Success, wantOut: "fine"},
		{name: "other-host redirect not followed", probe: get("/elsewhere?port=" + strconv.Itoa(port)), want: Warning, wantOut: "Probe terminated redirects"},
		{name: "redirect loop", probe: get("/loop"), want: Failure, wantOut: `Get "/loop": stopped after 10 redirects`},
		{name: "404", probe: get("/missing"), want: Failure, wantOut: "HTTP probe failed with statuscode: 404"},
		{name: "500", probe: get("/broken"), want: Failure, wantOut: "HTTP probe failed with statuscode: 500"},
		{name: "body limited to 10 KiB", probe: get("/big"), want: Success, wantSize: 10 << 10},
		{name: "timeout", probe: get("/slow"), want: Failure, wantOut: "Get "},
		{
			name: "headers", want: Success, wantOut: "custom|*/*|yes|example.test",
			probe: func() *corev1.Probe {
				p := get("/headers")
				p.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "user-agent", Value: "custom"}, {Name: "X-Probe", Value: "yes"}, {Name: "Host", Value: "example.test"}}
				return p
			}(),
		},
		{name: "default user agent", probe: get("/headers"), want: Success, wantOut: "kube-probe/1.37|*/*||127.0.0.1:"},
		{
			name: "named port", want: Success, wantOut: "fine",
			probe: func() *corev1.Probe {
				p := get("/ok")
				p.HTTPGet.Port = intstr.FromString("http")
				return p
			}(),
			target: Target{PodIP: "127.0.0.1", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}},
		},
		{
			name: "unknown named port", want: Unknown, wantOut: `port "web" not found`,
			probe: func() *corev1.Probe {
				p := get("/ok")
				p.HTTPGet.Port = intstr.FromString("web")
				return p
			}(),
		},
		{name: "host network without pod IP", probe: get("/ok"), target: Target{HostNetwork: true}, want: Success, wantOut: "fine"},
		{name: "no pod IP", probe: get("/ok"), target: Target{}, want: Unknown, wantOut: "pod has no IP"},
		{
			name: "https without verification", want: Success, wantOut: "fine",
			probe: func() *corev1.Probe {
				p := get("/ok")
				p.HTTPGet.Scheme = corev1.URISchemeHTTPS
				p.HTTPGet.Port = intstr.FromInt32(int32(serverPort(t, tlsSrv)))
				return p
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.target
			if tg.PodIP == "" && !tg.HostNetwork && tc.name != "no pod IP" {
				tg = target
			}
			got, out := Do(context.Background(), tc.probe, tg)
			if got != tc.want || !strings.Contains(out, tc.wantOut) {
				t.Errorf("Do(%s) = %v, %.200q; want %v, %q", tc.name, got, out, tc.want, tc.wantOut)
			}
			if tc.wantSize != 0 && len(out) != tc.wantSize {
				t.Errorf("Do(%s) output is %d bytes, want %d", tc.name, len(out), tc.wantSize)
			}
		})
	}
}

func TestDoTCP(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	tcp := func(port int) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}}
	}
	tests := []struct {
		name  string
		probe *corev1.Probe
		want  Result
	}{
		{"open port", tcp(open.Addr().(*net.TCPAddr).Port), Success},
		{"closed port", tcp(closedPort), Failure},
		{"port 0", tcp(0), Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, out := Do(context.Background(), tc.probe, Target{PodIP: "127.0.0.1"}); got != tc.want {
				t.Errorf("Do(%s) = %v, %q; want %v", tc.name, got, out, tc.want)
			}
		})
	}
}

func TestDoExec(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	exec := func(code int, out string, err error) func(context.Context, []string) (int, []byte, error) {
		return func(context.Context, []string) (int, []byte, error) { return code, []byte(out), err }
	}
	tests := []struct {
		name    string
		cmd     []string
		exec    func(context.Context, []string) (int, []byte, error)
		want    Result
		wantOut string
	}{
		{"exit 0", []string{"true"}, exec(0, "ok", nil), Success, "ok"},
		{"exit 1", []string{"false"}, exec(1, "bad", nil), Failure, "bad"},
		{"exit 137", []string{"x"}, exec(137, "", nil), Failure, ""},
		{"exec error", []string{"x"}, exec(-1, "", errors.New("no such file")), Unknown, `running ["x"]: no such file`},
		{
			"timeout honoring ctx", []string{"sleep"},
			func(ctx context.Context, _ []string) (int, []byte, error) { <-ctx.Done(); return -1, nil, ctx.Err() },
			Failure, `command ["sleep"] timed out`,
		},
		{
			"timeout ignoring ctx", []string{"sleep"},
			func(context.Context, []string) (int, []byte, error) { <-release; return 0, nil, nil },
			Failure, `command ["sleep"] timed out`,
		},
		{"no exec", []string{"true"}, nil, Unknown, "exec probes need a running container"},
		{"no command", nil, exec(0, "", nil), Unknown, "exec probe has no command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: tc.cmd}}}
			if got, out := Do(context.Background(), p, Target{Exec: tc.exec}); got != tc.want || out != tc.wantOut {
				t.Errorf("Do(%s) = %v, %q; want %v, %q", tc.name, got, out, tc.want, tc.wantOut)
			}
		})
	}
}

func TestDoUnsupported(t *testing.T) {
	tests := []struct {
		name    string
		probe   *corev1.Probe
		wantOut string
	}{
		{"grpc", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}}, "grpc probes are not supported by podsec"},
		{"no handler", &corev1.Probe{}, "missing probe handler"},
		{"nil", nil, "no probe"},
	}
	for _, tc := range tests {
		if got, out := Do(context.Background(), tc.probe, Target{PodIP: "127.0.0.1"}); got != Unknown || out != tc.wantOut {
			t.Errorf("Do(%s) = %v, %q; want unknown, %q", tc.name, got, out, tc.wantOut)
		}
	}
}
