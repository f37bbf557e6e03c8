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

	"golang.org/x/sys/unix"
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

// lock takes the exclusive lock of the data, making the directory when
// create is set; without it, a missing directory gives no lock and no
// error. The lock file is checked to be still the one at its path once
// the lock is held: removeIdle deletes it, and a lock taken on a deleted
// file guards nothing, so the lock is then taken again.
func (s ipamStore) lock(create bool) (*fileLock, error) {
	path := filepath.Join(s.dir, ipamLockName)
	// Each round lost means another root's Close removed the directory
	// meanwhile; a hundred in a row means something else is wrong.
	for range 100 {
		if create {
			if err := os.MkdirAll(s.dir, 0o755); err != nil {
				return nil, fmt.Errorf("creating IPAM directory: %w", err)
			}
		}
		flags := os.O_RDWR | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if create {
			flags |= os.O_CREATE
		}
		f, err := os.OpenFile(path, flags, 0o600)
		if errors.Is(err, os.ErrNotExist) {
			if !create {
				return nil, nil
			}
			continue // removeIdle took the directory after MkdirAll
		}
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if err := flockRetry(f, unix.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if sameFile(f, path) {
			return &fileLock{release: func() { f.Close() }}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("locking %s: the lock file was replaced a hundred times in a row", path)
}

// removeIdle removes the data directory when it holds no allocation and
// no one holds its lock, another state root's Setup included: that root
// reads the same conflist, hence the same directory. Anything else (an
// allocation, a file host-local does not make, a lock in use) leaves it.
// The lock file goes last, while held, so that one waiting for it finds
// it deleted once it has it, and takes the lock of a new one (lock).
// host-local itself runs under the node lock, as this does.
func (s ipamStore) removeIdle() error {
	path := filepath.Join(s.dir, ipamLockName)
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		// No lock file: host-local makes it with its data, so there is
		// nothing here but perhaps an empty directory.
		return s.removeEmptyDir()
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", path, err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil // an allocation or release is under way
		}
		return fmt.Errorf("locking %s: %w", path, err)
	}
	if !sameFile(f, path) || holdsAllocations(s.dir) {
		return nil
	}
	for _, name := range []string{ipamLastReserved, ipamLockName} {
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing IPAM data: %w", err)
		}
	}
	// A Setup that came after the lock file went makes a new one, and
	// its allocation, in the directory: it is in use again and stays.
	return s.removeEmptyDir()
}

// removeEmptyDir removes the data directory if it is empty.
func (s ipamStore) removeEmptyDir() error {
	err := os.Remove(s.dir)
	if err == nil || errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		return nil
	}
	return fmt.Errorf("removing IPAM data: %w", err)
}

// sameFile tells whether f is still the file at path.
func sameFile(f *os.File, path string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Lstat(path, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

func flockRetry(f *os.File, how int) error {
	for {
		if err := unix.Flock(int(f.Fd()), how); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// allocate reserves the next free address of subnet for the container, as
// host-local does with one range of the whole subnet: from the address
// after the last reserved one, round the range (network+1 to
// broadcast-1), skipping the gateway (network+1).
func (s ipamStore) allocate(containerID, ifName string, subnet *net.IPNet) (net.IP, error) {
	l, err := s.lock(true)
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
	l, err := s.lock(false)
	if err != nil || l == nil {
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

// takenByOther tells whether another container than containerID holds ip
// in the data: a teardown run again after the address was released, and
// given to another pod, must leave that pod's flows alone. A missing file
// or directory is no holder.
func (s ipamStore) takenByOther(containerID string, ip net.IP) bool {
	if ip.To4() == nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(s.dir, ip.To4().String()))
	if err != nil {
		return false
	}
	id, _, _ := strings.Cut(string(b), ipamLineBreak)
	return strings.TrimSpace(id) != containerID
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
