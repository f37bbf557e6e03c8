package main

// The third red team's probes: a UDP flow that outlives the pod it was
// opened to (conntrack state left behind for an address that is handed
// out again).

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

func init() {
	register("rt3-udp-echo", rt3UDPEcho)
	register("rt3-udp-flow", rt3UDPFlow)
}

// rt3UDPEcho answers every datagram received on PORT with "ECHO <payload>"
// for SECONDS, printing "LISTENING" once it listens.
//
//	attacker rt3-udp-echo PORT SECONDS
func rt3UDPEcho(args []string) error {
	return serveUDP(args, "rt3-udp-echo", func(pc net.PacketConn, from net.Addr, msg []byte) error {
		_, err := pc.WriteTo(append([]byte("ECHO "), msg...), from)
		return err
	})
}

// rt3UDPFlow sends MSG to IP:PORT every 200 ms for SECONDS from one socket
// (one source port: one conntrack entry), and prints "REPLY <payload>" for
// the first reply it gets: from then on the flow is established in the
// node's conntrack table.
//
//	attacker rt3-udp-flow IP PORT SECONDS MSG
func rt3UDPFlow(args []string) error {
	if len(args) != 4 {
		return errors.New("usage: rt3-udp-flow IP PORT SECONDS MSG")
	}
	secs, err := strconv.Atoi(args[2])
	if err != nil {
		return err
	}
	c, err := net.Dial("udp4", net.JoinHostPort(args[0], args[1]))
	if err != nil {
		return err
	}
	defer c.Close()
	replied := make(chan string, 1)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			switch {
			case errors.Is(err, net.ErrClosed):
				return
			case err != nil:
				continue // ECONNREFUSED while nothing listens
			}
			replied <- string(buf[:n])
			return
		}
	}()
	end := time.Now().Add(time.Duration(secs) * time.Second)
	for time.Now().Before(end) {
		_, _ = c.Write([]byte(args[3])) // refused sends are retried
		select {
		case r := <-replied:
			fmt.Printf("REPLY %s\n", r)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}
