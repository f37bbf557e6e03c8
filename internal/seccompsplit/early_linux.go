package seccompsplit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// earlyMemfdName names the memory file that hands a container's init its
// early seccomp filter (seccomp_split_linux.go), as its first extra file
// (fd 3). earlyMagic starts its content, then the load flags (4 bytes,
// little endian), then the program.
const (
	earlyMemfdName = "podsec-early-seccomp"
	earlyMagic     = "podsec-early-v1\n"
	earlyFd        = 3
)

func encodeEarly(flags uint32, prog []byte) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte(earlyMagic), flags), prog...)
}

// LoadEarly loads the early filter podsec handed the init into every
// thread, and leaves its descriptor to be closed when the container's
// process is executed. The filter is the sealed memory file podsec makes
// for it, among the init's extra files: fd 3 for a pod's container, the
// one after the preserved ones for podsec-runtime (runc's --preserve-fds
// keep their numbers). An init without one is left alone: the parent
// checks that the process has both filters (CheckFilters); an init given
// two fails rather than guess which is podsec's.
func LoadEarly() error {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("early seccomp filter: %w", err)
	}
	fd := -1
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil || n < earlyFd {
			continue
		}
		link, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || !strings.HasPrefix(link, "/memfd:"+earlyMemfdName+" ") {
			continue
		}
		if fd >= 0 {
			return errors.New("more than one early seccomp filter")
		}
		fd = n
	}
	if fd < 0 {
		return nil
	}
	return loadEarlyFd(fd)
}

// loadEarlyFd loads the early filter of fd.
func loadEarlyFd(fd int) error {
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || seals&(unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW) != unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW {
		return errors.New("the early seccomp filter is not sealed")
	}
	buf := make([]byte, len(earlyMagic)+4+MaxBytes+1)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("reading the early seccomp filter: %w", err)
	}
	rest, ok := bytes.CutPrefix(buf[:n], []byte(earlyMagic))
	if !ok || len(rest) < 4 {
		return errors.New("the early seccomp filter is not one")
	}
	flags, prog := binary.LittleEndian.Uint32(rest), rest[4:]
	if len(prog) == 0 || len(prog)%8 != 0 || len(prog) > MaxBytes {
		return fmt.Errorf("an early seccomp program of %d bytes", len(prog))
	}
	// Not no_new_privs: that is the container's own choice, which
	// libcontainer makes later. The init is root with every capability
	// in its user namespace, which the kernel asks of a filter without.
	if err := SetFilter(prog, flags); err != nil {
		return fmt.Errorf("loading the early seccomp filter: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		return fmt.Errorf("early seccomp filter: %w", err)
	}
	return nil
}

// CheckFilters makes sure the process pid, started with a split
// profile, runs under both its filters (as many filters as podsec has,
// plus two), so that an init that did not load the early filter never
// leaves a container under the late one alone. libcontainer's Start
// returns once the init has loaded its filters (it closes its sync
// socket after the late one), before the container's process runs.
func CheckFilters(pid int) error {
	own, err := seccompFilters("/proc/self/status")
	if err != nil {
		return err
	}
	got, err := seccompFilters("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return err
	}
	if got != own+2 {
		return fmt.Errorf("the process runs under %d seccomp filters, not its profile's 2", got-own)
	}
	return nil
}

// seccompFilters reads Seccomp_filters of a status file.
func seccompFilters(status string) (int, error) {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0, fmt.Errorf("checking seccomp filters: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Seccomp_filters:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("checking seccomp filters: no Seccomp_filters in " + status)
}

// SealedMemfd is a read-only memory file holding b, sealed so that no
// one can change it.
func SealedMemfd(name string, b []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
