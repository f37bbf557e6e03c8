package probe

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// doTCP passes if a TCP connection opens within the timeout.
func doTCP(ctx context.Context, a *corev1.TCPSocketAction, t Target, timeout time.Duration) (Result, string) {
	h, err := host(a.Host, t)
	if err != nil {
		return Unknown, err.Error()
	}
	port, err := resolvePort(a.Port, t.Ports)
	if err != nil {
		return Unknown, err.Error()
	}
	d := dialer(timeout)
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(h, strconv.Itoa(port)))
	if err != nil {
		return Failure, err.Error()
	}
	if err := conn.Close(); err != nil {
		return Success, fmt.Sprintf("closing probe connection: %v", err)
	}
	return Success, ""
}
