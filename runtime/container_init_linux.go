package runtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
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

// ContainerInit is a container's init process, when libcontainer
// re-executes podsec as "PROGRAM init": it loads the early seccomp filter
// podsec handed it, if any, then runs libcontainer's init, which sets the
// container up, loads the late filter and execs the container's process.
// A program that embeds this package calls it from an init function, as
// for SandboxArg. It never returns.
func ContainerInit() {
	if err := loadEarlyFilter(); err != nil {
		fmt.Fprintf(os.Stderr, "podsec init: %v\n", err)
		os.Exit(1)
	}
	libcontainer.Init()
}

// loadEarlyFilter loads the filter of fd 3 into every thread when fd 3 is
// the sealed memory file podsec makes for it, and leaves fd 3 to be
// closed when the container's process is executed. Any other fd 3 (an
// extra file of the process) is left alone: the parent checks, once the
// process runs, that it has both filters (checkSeccompFilters).
func loadEarlyFilter() error {
	link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(earlyFd))
	if err != nil || !strings.HasPrefix(link, "/memfd:"+earlyMemfdName+" ") {
		return nil
	}
	seals, err := unix.FcntlInt(earlyFd, unix.F_GET_SEALS, 0)
	if err != nil || seals&(unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW) != unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW {
		return errors.New("the early seccomp filter is not sealed")
	}
	buf := make([]byte, len(earlyMagic)+4+bpfMaxBytes+1)
	n, err := unix.Pread(earlyFd, buf, 0)
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
	if _, err := unix.FcntlInt(earlyFd, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		return fmt.Errorf("early seccomp filter: %w", err)
	}
	return nil
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
