package network

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"syscall"
)

// PodRef names a pod of the node.
type PodRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
}

// String is namespace/name, as kubectl names pods.
func (p PodRef) String() string { return p.Namespace + "/" + p.Name }

func (p PodRef) validate() error {
	for _, s := range []string{p.Namespace, p.Name} {
		if s == "" || len(s) > 253 || strings.ContainsAny(s, "/_\x00") || s == "." || s == ".." {
			return fmt.Errorf("%w: pod %q is not a valid namespace/name", ErrInvalid, p.String())
		}
	}
	return nil
}

// PortMapping is one hostPort of a pod: traffic to HostIP:HostPort of the
// node goes to the pod's ContainerPort.
type PortMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`         // TCP, UDP or SCTP
	HostIP        string `json:"hostIP,omitempty"` // "" is every address
}

// String is the port as messages show it: 9000/TCP or 127.0.0.1:9000/TCP.
func (p PortMapping) String() string {
	s := fmt.Sprintf("%d/%s", p.HostPort, p.Protocol)
	if p.HostIP != "" {
		s = p.HostIP + ":" + s
	}
	return s
}

// normalizePorts checks the mappings and gives them a canonical form:
// protocol upper case and TCP when empty, hostIP "" for every address.
func normalizePorts(in []PortMapping) ([]PortMapping, error) {
	out := make([]PortMapping, 0, len(in))
	for _, p := range in {
		p.Protocol = strings.ToUpper(p.Protocol)
		if p.Protocol == "" {
			p.Protocol = "TCP"
		}
		switch p.Protocol {
		case "TCP", "UDP", "SCTP":
		default:
			return nil, fmt.Errorf("%w: hostPort %d: unsupported protocol %q", ErrInvalid, p.HostPort, p.Protocol)
		}
		if p.HostPort < 1 || p.HostPort > 65535 || p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return nil, fmt.Errorf("%w: hostPort %d to containerPort %d: ports must be between 1 and 65535", ErrInvalid, p.HostPort, p.ContainerPort)
		}
		if p.HostIP != "" {
			ip := net.ParseIP(p.HostIP)
			if ip == nil || ip.To4() == nil {
				return nil, fmt.Errorf("%w: hostPort %d: hostIP %q is not an IPv4 address", ErrInvalid, p.HostPort, p.HostIP)
			}
			if ip.IsUnspecified() {
				p.HostIP = ""
			} else {
				p.HostIP = ip.To4().String()
			}
		}
		for _, q := range out {
			if overlaps(p, q) {
				return nil, fmt.Errorf("%w: hostPort %s is asked for twice", ErrInvalid, p)
			}
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].HostPort < out[j].HostPort })
	return out, nil
}

// overlaps reports whether two mappings would claim the same traffic: same
// port and protocol, and the same hostIP or either on every address.
func overlaps(a, b PortMapping) bool {
	return a.HostPort == b.HostPort && a.Protocol == b.Protocol &&
		(a.HostIP == b.HostIP || a.HostIP == "" || b.HostIP == "")
}

// conflict finds a recorded pod that holds one of the ports.
func conflict(ports []PortMapping, recs []*Attachment) error {
	for _, p := range ports {
		for _, a := range recs {
			for _, q := range a.Ports {
				if overlaps(p, q) {
					held := q.String()
					if q.HostIP == "" {
						held = p.String()
					}
					return fmt.Errorf("%w: hostPort %s is already held by pod %s", ErrPortConflict, held, a.Pod)
				}
			}
		}
	}
	return nil
}

// probePort binds the host port briefly to find a listener that is not a
// podsec pod: portmap's DNAT would silently take its traffic. SCTP is not
// probed.
func probePort(p PortMapping) error {
	host := p.HostIP
	if host == "" {
		host = "0.0.0.0"
	}
	addr := net.JoinHostPort(host, fmt.Sprint(p.HostPort))
	var err error
	switch p.Protocol {
	case "TCP":
		var l net.Listener
		if l, err = net.Listen("tcp4", addr); err == nil {
			l.Close()
		}
	case "UDP":
		var c net.PacketConn
		if c, err = net.ListenPacket("udp4", addr); err == nil {
			c.Close()
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%w: hostPort %s: another process listens on it", ErrPortInUse, p)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%w: hostPort %s: hostIP %s is not an address of this node", ErrInvalid, p, p.HostIP)
	default:
		return fmt.Errorf("checking hostPort %s: %w", p, err)
	}
}

// capabilityArgs is the "portMappings" runtime config of the portmap plugin.
func capabilityArgs(ports []PortMapping) map[string]any {
	if len(ports) == 0 {
		return nil
	}
	pm := make([]map[string]any, 0, len(ports))
	for _, p := range ports {
		e := map[string]any{
			"hostPort":      p.HostPort,
			"containerPort": p.ContainerPort,
			"protocol":      strings.ToLower(p.Protocol),
		}
		if p.HostIP != "" {
			e["hostIP"] = p.HostIP
		}
		pm = append(pm, e)
	}
	return map[string]any{"portMappings": pm}
}
