package runtime

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

// earlyMemfd makes the early filter's memory file; tests replace it to
// hand an init something else.
var earlyMemfd = sealedMemfd

// earlyMemfdName names the memory file that hands a container's init its
// early seccomp filter (seccomp_split_linux.go), as an extra file of the
// process (fd 3 as podsec passes it; the init looks for it among all its
// files). earlyMagic starts its content, then the load flags (4 bytes,
// little endian), then the program.
const (
	earlyMemfdName = "podsec-early-seccomp"
	earlyMagic     = "podsec-early-v1\n"
)

// logLevelEnv is the variable through which libcontainer hands a
// process's LogLevel to its init (nsexec's C code and the Go init parse
// it as a base-10 integer). earlyAsked, written before the level, is how
// podsec tells the init that its profile was split: a level written with
// leading zeros parses as the same number for both, and no level
// libcontainer or podsec writes otherwise starts with two zeros. Should a
// libcontainer stop passing it, inits would go on as unmarked ones (the
// filter still loaded when present, a container's init still counted at
// the exec fifo) and TestEarlyFilterMissingExec would fail.
const (
	logLevelEnv = "_LIBCONTAINER_LOGLEVEL"
	logPipeEnv  = "_LIBCONTAINER_LOGPIPE"
	earlyAsked  = "00"
)

func encodeEarly(flags uint32, prog []byte) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte(earlyMagic), flags), prog...)
}

// askEarly hands p the early filter f and marks p as a process that must
// not run without it: its init refuses to go on unless it loads f.
func askEarly(p *libcontainer.Process, f *os.File) {
	p.ExtraFiles = append([]*os.File{f}, p.ExtraFiles...)
	level := p.LogLevel
	if level == "" {
		level = strconv.Itoa(int(logrus.GetLevel()))
	}
	p.LogLevel = earlyAsked + level
}

// ContainerInit is a container's init process, when libcontainer
// re-executes podsec as "PROGRAM init": it loads the early seccomp filter
// podsec handed it, if any, then runs libcontainer's init, which sets the
// container up, loads the late filter and execs the container's process.
// An init told that its profile was split (askEarly) that finds no early
// filter exits before libcontainer's init runs: the container's process
// is never executed under the late filter alone, whether it is a
// container's init (podsec run) or a process joining one (podsec exec).
// A program that embeds this package calls it from an init function, as
// for SandboxArg. It never returns.
func ContainerInit() {
	asked := strings.HasPrefix(os.Getenv(logLevelEnv), earlyAsked)
	if err := loadEarlyFilter(asked); err != nil {
		initFatal(fmt.Sprintf("podsec init: seccomp: %v", err))
	}
	libcontainer.Init()
}

// initFatal ends the init with msg as a fatal entry of libcontainer's log
// pipe, which the parent's Start or Run returns in its error (as the
// errors of nsexec and of libcontainer's own init), and on stderr.
func initFatal(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	if fd, err := strconv.Atoi(os.Getenv(logPipeEnv)); err == nil && fd > 2 {
		if b, err := json.Marshal(map[string]string{"level": "fatal", "msg": msg}); err == nil {
			_, _ = unix.Write(fd, append(b, '\n'))
		}
	}
	os.Exit(1)
}

// errNoEarly is why an init told its profile was split refuses to go on.
const errNoEarly = "the profile was split but its early filter was not handed to the init: the process was not executed"

// loadEarlyFilter loads into every thread the early filter of the sealed
// memory file podsec makes for it, found among the process's files by
// its name, and leaves that file to be closed when the container's
// process is executed. Without one it fails when asked is true (the
// parent split the profile: the late filter alone is not the profile),
// and does nothing otherwise (a whole profile, or none).
func loadEarlyFilter(asked bool) error {
	fd, err := findEarlyMemfd()
	if err != nil {
		return err
	}
	if fd < 0 {
		if asked {
			return errors.New(errNoEarly)
		}
		return nil
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || seals&(unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW) != unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW {
		return errors.New("the early seccomp filter is not sealed")
	}
	buf := make([]byte, len(earlyMagic)+4+bpfMaxBytes+1)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("reading the early seccomp filter: %w", err)
	}
	rest, ok := bytes.CutPrefix(buf[:n], []byte(earlyMagic))
	if !ok || len(rest) < 4 {
		return errors.New("the early seccomp filter is not one")
	}
	flags, prog := binary.LittleEndian.Uint32(rest), rest[4:]
	if len(prog) == 0 || len(prog)%8 != 0 || len(prog) > bpfMaxBytes {
		return fmt.Errorf("an early seccomp program of %d bytes", len(prog))
	}
	// Not no_new_privs: that is the container's own choice, which
	// libcontainer makes later. The init is root with every capability
	// in its user namespace, which the kernel asks of a filter without.
	if err := setFilter(prog, flags); err != nil {
		return fmt.Errorf("loading the early seccomp filter: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		return fmt.Errorf("early seccomp filter: %w", err)
	}
	return nil
}

// findEarlyMemfd is the descriptor of the init's early filter memory
// file, or -1 when it has none. Its position is not trusted: a change of
// how libcontainer orders a process's files must not turn the filter
// into a file the init ignores. Two are refused.
func findEarlyMemfd() (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1, fmt.Errorf("listing the init's files: %w", err)
	}
	found := -1
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		link, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || !strings.HasPrefix(link, "/memfd:"+earlyMemfdName+" ") {
			continue
		}
		if found >= 0 {
			return -1, errors.New("the init was handed two early seccomp filters")
		}
		found = fd
	}
	return found, nil
}

// checkSeccompFilters makes sure the process pid, started with a split
// profile, runs under both its filters (as many filters as podsec has,
// plus two), so that an init that did not load the early filter never
// leaves a container under the late one alone.
func checkSeccompFilters(pid int) error {
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
