package network

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// host-local's on-disk format (containernetworking/plugins,
// plugins/ipam/host-local/backend/disk), which the in-process network
// keeps so that host-local, cnitool and an older podsec read and release
// the same allocations:
//
//	<dataDir>/<network>/<ip>                 "<container ID>\r\n<ifname>", O_EXCL
//	<dataDir>/<network>/last_reserved_ip.0   the last address handed out in range set 0
//	<dataDir>/<network>/lock                 flock(2), exclusive, around every change
const (
	ipamLineBreak    = "\r\n"
	ipamLastReserved = "last_reserved_ip.0"
	ipamLockName     = "lock"
)

// ipamStore is the host-local data of one network.
type ipamStore struct{ dir string }

func (m *Manager) ipam() ipamStore {
	return ipamStore{dir: filepath.Join(m.ipamData, m.list.Name)}
}

func (s ipamStore) lock() (*fileLock, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating IPAM directory: %w", err)
	}
	return lockFile(filepath.Join(s.dir, ipamLockName))
}

// allocate reserves the next free address of subnet for the container, as
// host-local does with one range of the whole subnet: from the address
// after the last reserved one, round the range (network+1 to
// broadcast-1), skipping the gateway (network+1).
func (s ipamStore) allocate(containerID, ifName string, subnet *net.IPNet) (net.IP, error) {
	l, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer l.unlock()
	first, last := hostRange(subnet)
	gw := first
	n := last - first + 1
	next := first
	if b, err := os.ReadFile(filepath.Join(s.dir, ipamLastReserved)); err == nil {
		if ip := net.ParseIP(strings.TrimSpace(string(b))).To4(); ip != nil {
			if v := binary.BigEndian.Uint32(ip); v >= first && v < last {
				next = v + 1
			}
		}
	}
	for i := uint32(0); i < n; i++ {
		v := first + (next-first+i)%n
		if v == gw {
			continue
		}
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, v)
		ok, err := s.reserve(containerID, ifName, ip)
		if err != nil {
			return nil, err
		}
		if ok {
			return ip, nil
		}
	}
	return nil, fmt.Errorf("%w: no IP addresses available in %s", ErrExhausted, subnet)
}

// reserve creates the address's file, or reports it taken.
func (s ipamStore) reserve(containerID, ifName string, ip net.IP) (bool, error) {
	path := filepath.Join(s.dir, ip.String())
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reserving %s: %w", ip, err)
	}
	_, err = f.WriteString(containerID + ipamLineBreak + ifName)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(s.dir, ipamLastReserved), []byte(ip.String()), 0o600)
	}
	if err != nil {
		os.Remove(path)
		return false, fmt.Errorf("reserving %s: %w", ip, err)
	}
	return true, nil
}

// release frees every address held by the container on ifName (or in
// host-local's older format, by the container alone). Nothing held is no
// error.
func (s ipamStore) release(containerID, ifName string) error {
	if _, err := os.Stat(s.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	l, err := s.lock()
	if err != nil {
		return err
	}
	defer l.unlock()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("reading IPAM data: %w", err)
	}
	want := []byte(containerID + ipamLineBreak + ifName)
	var errs []error
	for _, e := range ents {
		if net.ParseIP(e.Name()) == nil {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue // released by someone else meanwhile
		}
		b = bytes.TrimSpace(b)
		if bytes.Equal(b, want) || bytes.Equal(b, []byte(containerID)) {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("releasing %s: %w", e.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// hostRange is the first and last host address of an IPv4 subnet, as
// integers.
func hostRange(subnet *net.IPNet) (first, last uint32) {
	base := binary.BigEndian.Uint32(subnet.IP.To4())
	mask := binary.BigEndian.Uint32(net.IP(subnet.Mask).To4())
	return base + 1, (base | ^mask) - 1
}

// gatewayOf is host-local's default gateway of a subnet: its first host
// address.
func gatewayOf(subnet *net.IPNet) net.IP {
	first, _ := hostRange(subnet)
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, first)
	return ip
}
