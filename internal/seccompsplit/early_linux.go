package seccompsplit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// EarlyMemfdName names the memory file that hands a container's init its
// early seccomp filter (split_linux.go), as an extra file of the process
// (the init looks for it among all its files). earlyMagic starts its
// content, then the load flags (4 bytes, little endian), then the
// program.
const (
	EarlyMemfdName = "podsec-early-seccomp"
	earlyMagic     = "podsec-early-v1\n"
	earlyFd        = 3
)

// libcontainer hands a process's LogLevel to its init in logLevelEnv
// (nsexec's C code and the Go init parse it as a base-10 integer).
// askedPrefix, written before the level, is how the parent tells the init
// that the profile was split: a level with leading zeros parses as the
// same number for both, and no level libcontainer writes otherwise starts
// with two zeros. (The design of the seccomp-harden work on runtime.)
const (
	logLevelEnv = "_LIBCONTAINER_LOGLEVEL"
	logPipeEnv  = "_LIBCONTAINER_LOGPIPE"
	askedPrefix = "00"
)

// NoEarlyMessage is why an init told that its profile was split, and
// handed no early filter, refuses to go on.
const NoEarlyMessage = "the profile was split but its early filter was not handed to the init: the process was not executed"

// Ask marks p as a process whose profile was split: its init (LoadEarly)
// refuses to go on unless it loads an early filter, so the process is
// never executed under the late filter alone, whether it is a
// container's init or a process joining one. The caller hands p the
// early filter's file among its extra files.
func Ask(p *libcontainer.Process) {
	level := p.LogLevel
	if level == "" {
		level = strconv.Itoa(int(logrus.GetLevel()))
	}
	p.LogLevel = askedPrefix + level
}

// InitFatal ends a container's init with msg as a fatal entry of
// libcontainer's log pipe, which the parent's Start or Run returns in its
// error (as nsexec's and libcontainer's own init errors), and on stderr.
func InitFatal(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	if fd, err := strconv.Atoi(os.Getenv(logPipeEnv)); err == nil && fd > 2 {
		if b, err := json.Marshal(map[string]string{"level": "fatal", "msg": msg}); err == nil {
			_, _ = unix.Write(fd, append(b, '\n'))
		}
	}
	os.Exit(1)
}

func encodeEarly(flags uint32, prog []byte) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte(earlyMagic), flags), prog...)
}

// LoadEarly loads the early filter podsec handed the init into every
// thread, and leaves its descriptor to be closed when the container's
// process is executed. The filter is the sealed memory file podsec makes
// for it, among the init's extra files: fd 3 for a pod's container, the
// one after the preserved ones for podsec-runtime (runc's --preserve-fds
// keep their numbers). An init without one fails when its parent marked
// the profile as split (Ask), and is left alone otherwise (a whole
// profile, or none); the parent counts the filters too (CheckFilters).
// An init given two fails rather than guess which is podsec's.
func LoadEarly() error {
	asked := strings.HasPrefix(os.Getenv(logLevelEnv), askedPrefix)
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
		if err != nil || !strings.HasPrefix(link, "/memfd:"+EarlyMemfdName+" ") {
			continue
		}
		if fd >= 0 {
			return errors.New("the init was handed two early seccomp filters")
		}
		fd = n
	}
	if fd < 0 {
		if asked {
			return errors.New(NoEarlyMessage)
		}
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
