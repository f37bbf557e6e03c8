package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/runtime/probe/netprobe"
)

// ErrNotPlain is returned by Plain for a probe only the supervisor runs.
var ErrNotPlain = errors.New("probe needs the supervisor")

// Plain turns probe p of kind against t into what podsec-monitor runs
// (netprobe.Spec: kind, defaulted timing and thresholds, the address and
// the request) when it is a tcpSocket probe or an http (not https)
// httpGet probe to an IP address. Exec, gRPC and https probes, and those
// naming a host, return ErrNotPlain. A probe whose every attempt would be
// Unknown here (no pod IP, an unknown port name) becomes one without an
// address, with the reason in Err. The caller fills in the container,
// its start and the probe's standing.
func Plain(kind Kind, p *corev1.Probe, t Target) (netprobe.Spec, error) {
	pr, err := Defaulted(kind, p)
	if err != nil {
		return netprobe.Spec{}, err
	}
	s := netprobe.Spec{Kind: kind, PeriodSeconds: pr.PeriodSeconds, TimeoutSeconds: pr.TimeoutSeconds,
		InitialDelaySeconds: pr.InitialDelaySeconds, SuccessThreshold: pr.SuccessThreshold, FailureThreshold: pr.FailureThreshold}
	switch {
	case pr.TCPSocket != nil:
		h, err := host(pr.TCPSocket.Host, t)
		if err != nil {
			s.Err = err.Error()
			return s, nil
		}
		port, err := resolvePort(pr.TCPSocket.Port, t.Ports)
		if err != nil {
			s.Err = err.Error()
			return s, nil
		}
		s.Addr = net.JoinHostPort(h, strconv.Itoa(port))
	case pr.HTTPGet != nil:
		req, err := newRequest(context.Background(), pr.HTTPGet, t)
		if err != nil {
			if pr.HTTPGet.Scheme != "" && pr.HTTPGet.Scheme != corev1.URISchemeHTTP {
				return s, fmt.Errorf("%w: scheme %s", ErrNotPlain, pr.HTTPGet.Scheme)
			}
			s.Err = err.Error()
			return s, nil
		}
		if req.URL.Scheme != "http" {
			return s, fmt.Errorf("%w: scheme %s", ErrNotPlain, req.URL.Scheme)
		}
		for name, vs := range req.Header {
			for _, v := range append([]string{name}, vs...) {
				if !printable(v) {
					return s, fmt.Errorf("%w: header %q", ErrNotPlain, name)
				}
			}
		}
		if !printable(req.Host) {
			return s, fmt.Errorf("%w: host %q", ErrNotPlain, req.Host)
		}
		// What the kubelet's transport writes: no keep-alive, no
		// compression asked for.
		req.Close = true
		var b bytes.Buffer
		if err := req.Write(&b); err != nil {
			return s, fmt.Errorf("%w: %v", ErrNotPlain, err)
		}
		s.Addr, s.Request = req.URL.Host, b.Bytes()
	default:
		return s, fmt.Errorf("%w: not a tcpSocket or httpGet probe", ErrNotPlain)
	}
	ap, err := netip.ParseAddrPort(s.Addr)
	if err != nil || ap.Addr().Zone() != "" {
		return s, fmt.Errorf("%w: %s is not an IP address and port", ErrNotPlain, s.Addr)
	}
	// The form netprobe reads without the net packages.
	ip := ap.Addr().Unmap()
	if ip.Is4() {
		s.Addr = ip.String() + ":" + strconv.Itoa(int(ap.Port()))
	} else {
		s.Addr = "[" + ip.StringExpanded() + "]:" + strconv.Itoa(int(ap.Port()))
	}
	return s, nil
}

// printable reports whether v holds no control character but tab, as
// the kubelet's transport requires of header fields.
func printable(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
