package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// UserAgent is sent unless the probe sets its own, as the kubelet sends
// kube-probe/<major>.<minor> of its version.
const UserAgent = "kube-probe/1.37"

// transport is shared like the kubelet's: no proxy, no keep-alives (each
// probe opens a fresh connection, as a restarted server would see it), no
// certificate checks.
var transport = &http.Transport{
	Proxy:              nil,
	TLSClientConfig:    &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the kubelet does not verify probe certificates
	DisableKeepAlives:  true,
	DisableCompression: true,
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer(0).DialContext(ctx, network, addr)
	},
}

// doHTTP passes for a status in [200, 400). Redirects are followed only to
// the same host name, up to 10; a redirect elsewhere ends the probe with
// Warning, which counts as passing, as in the kubelet.
func doHTTP(ctx context.Context, a *corev1.HTTPGetAction, t Target, timeout time.Duration) (Result, string) {
	req, err := newRequest(ctx, a, t)
	if err != nil {
		return Unknown, err.Error()
	}
	client := &http.Client{Transport: transport, Timeout: timeout, CheckRedirect: sameHostRedirects}
	res, err := client.Do(req)
	if err != nil {
		return Failure, err.Error() // timeouts and refused connections alike
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxOutput))
	if err != nil {
		return Failure, fmt.Sprintf("reading probe response: %v", err)
	}
	if res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusBadRequest {
		if res.StatusCode >= http.StatusMultipleChoices {
			return Warning, "Probe terminated redirects, Response body: " + string(body)
		}
		return Success, string(body)
	}
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", res.StatusCode)
}

func newRequest(ctx context.Context, a *corev1.HTTPGetAction, t Target) (*http.Request, error) {
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("unsupported scheme %q", a.Scheme)
	}
	h, err := host(a.Host, t)
	if err != nil {
		return nil, err
	}
	port, err := resolvePort(a.Port, t.Ports)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(a.Path)
	if err != nil {
		u = &url.URL{Path: a.Path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(h, strconv.Itoa(port))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building probe request: %w", err)
	}
	for _, hd := range a.HTTPHeaders {
		req.Header.Add(hd.Name, hd.Value)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", UserAgent)
	}
	if _, ok := req.Header["Accept"]; !ok {
		req.Header.Set("Accept", "*/*")
	} else if req.Header.Get("Accept") == "" {
		req.Header.Del("Accept")
	}
	if v := req.Header.Get("Host"); v != "" {
		req.Host = v
	}
	return req, nil
}

// sameHostRedirects follows redirects to the same host name only, as the
// kubelet's RedirectChecker(false): the port may differ.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}
