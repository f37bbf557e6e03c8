package probe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// maxOutput bounds what a probe keeps of a body or command output, as the
// kubelet's 10 KiB.
const maxOutput = 10 << 10

// Target is the container a probe runs against.
type Target struct {
	// PodIP is the host for httpGet and tcpSocket without a host field.
	PodIP string
	// HostNetwork pods without a PodIP are probed on 127.0.0.1.
	HostNetwork bool
	// Ports are the container's, to resolve named probe ports.
	Ports []corev1.ContainerPort
	// Exec runs cmd in the container and returns its exit code and
	// combined output. It should end the command when ctx ends.
	Exec func(ctx context.Context, cmd []string) (exitCode int, output []byte, err error)
}

// Do makes one attempt of p against t, bounded by p.TimeoutSeconds (1 if
// unset), and returns its result and output: the body or command output on
// success, the reason on failure.
func Do(ctx context.Context, p *corev1.Probe, t Target) (Result, string) {
	if p == nil {
		return Unknown, "no probe"
	}
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.Exec != nil:
		return doExec(ctx, p.Exec.Command, t)
	case p.HTTPGet != nil:
		return doHTTP(ctx, p.HTTPGet, t, timeout)
	case p.TCPSocket != nil:
		return doTCP(ctx, p.TCPSocket, t, timeout)
	case p.GRPC != nil:
		return Unknown, "grpc probes are not supported by podsec"
	}
	return Unknown, "missing probe handler"
}

// host is the probe's host field, else the pod IP, else 127.0.0.1 for a
// host-network pod.
func host(field string, t Target) (string, error) {
	switch {
	case field != "":
		return field, nil
	case t.PodIP != "":
		return t.PodIP, nil
	case t.HostNetwork:
		return "127.0.0.1", nil
	}
	return "", errors.New("pod has no IP")
}

// resolvePort follows the kubelet's ResolveContainerPort: a number, or a
// name of one of the container's ports, or a number written as a string.
func resolvePort(port intstr.IntOrString, ports []corev1.ContainerPort) (int, error) {
	n := -1
	switch port.Type {
	case intstr.Int:
		n = int(port.IntVal)
	case intstr.String:
		found := false
		for _, p := range ports {
			if p.Name == port.StrVal {
				n, found = int(p.ContainerPort), true
				break
			}
		}
		if !found {
			var err error
			if n, err = strconv.Atoi(port.StrVal); err != nil {
				return -1, fmt.Errorf("port %q not found", port.StrVal)
			}
		}
	default:
		return -1, fmt.Errorf("port %v has no kind", port)
	}
	if n <= 0 || n > 65535 {
		return n, fmt.Errorf("invalid port number: %d", n)
	}
	return n, nil
}

func truncate(b []byte) string {
	if len(b) > maxOutput {
		b = b[:maxOutput]
	}
	return string(b)
}
