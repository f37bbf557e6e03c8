package oci

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"

	"github.com/podsec/podsec/internal/seccompsplit"
)

// splitLabel marks, in libcontainer's own state, a container whose
// profile was split: its exec'd processes need the early filter too.
// It has no "=": libcontainer reads the labels that have one as the
// container's annotations, which its state and hooks' stdin show
// (utils.Annotations), and this mark is podsec-runtime's, not the
// bundle's.
const splitLabel = "podsec-runtime.seccomp-split"

// oldSplitLabel is splitLabel of the containers earlier builds created,
// which still marks them split.
const oldSplitLabel = "podsec-runtime.seccomp=split"

// cacheDir holds podsec-runtime's own files under --root, beside the
// containers' state directories: the seccomp cache. List skips it.
const cacheDir = ".podsec"

// EarlySeccomp is the early seccomp filter (package seccompsplit) of one
// process of a container whose profile was split at create: a sealed
// memory file the process's init loads before libcontainer sets it up,
// and the check that the process runs under both filters. A nil
// EarlySeccomp is a container whose profile stayed whole.
type EarlySeccomp struct {
	file *os.File
}

// Prepare hands p's init the early filter, after any other extra file
// (runc's --preserve-fds keep their numbers), and marks p so that its
// init refuses to go on without it (seccompsplit.Ask).
func (e *EarlySeccomp) Prepare(p *libcontainer.Process) {
	if e == nil {
		return
	}
	p.ExtraFiles = append(p.ExtraFiles, e.file)
	seccompsplit.Ask(p)
}

// Check makes sure p, started (libcontainer's Start: the init has loaded
// its filters, its process has not run), runs under both filters, and
// kills it if not.
func (e *EarlySeccomp) Check(p *libcontainer.Process) error {
	if e == nil {
		return nil
	}
	e.file.Close()
	pid, err := p.Pid()
	if err == nil {
		err = seccompsplit.CheckFilters(pid)
	}
	if err != nil {
		_ = p.Signal(os.Kill)
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}

// close closes the memory file of a process that will not start.
func (e *EarlySeccomp) close() {
	if e != nil {
		e.file.Close()
	}
}

// splitProfile splits cfg's seccomp profile when that is exact and its
// early program can be had (from the cache under root, else made and
// cached): cfg keeps the late filter, and the early profile is returned
// for the sidecar (exec) with its memory file. Otherwise cfg keeps the
// whole profile for libcontainer to compile, as runc does.
func splitProfile(root string, cfg *configs.Config) (*configs.Seccomp, *EarlySeccomp) {
	sp := seccompsplit.Split(cfg.Seccomp)
	if sp == nil {
		return nil, nil
	}
	f, err := earlyFile(root, sp.Early)
	if err != nil {
		return nil, nil
	}
	cfg.Seccomp = sp.Late
	cfg.Labels = append(cfg.Labels, splitLabel)
	return sp.Early, &EarlySeccomp{file: f}
}

// earlyFile is the early filter's memory file for the profile early.
func earlyFile(root string, early *configs.Seccomp) (*os.File, error) {
	dir := filepath.Join(root, cacheDir)
	// Before the first container, as libcontainer makes it.
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return seccompsplit.EarlyFile(dir, &seccompsplit.Filters{Early: early})
}

// ExecSeccomp is the early filter a process exec'd in c needs: the one
// of its create (kept in its sidecar), or nil when its profile stayed
// whole. A split container whose early filter cannot be had refuses the
// exec rather than run it under the late filter alone.
func ExecSeccomp(root string, c *libcontainer.Container) (*EarlySeccomp, error) {
	labels := c.Config().Labels
	if !slices.Contains(labels, splitLabel) && !slices.Contains(labels, oldSplitLabel) {
		return nil, nil
	}
	side, err := readSidecar(root, c.ID())
	if err != nil {
		return nil, fmt.Errorf("seccomp: the early filter: %w", err)
	}
	if side.EarlySeccomp == nil {
		return nil, errors.New("seccomp: the container's profile is split, and its early filter is missing")
	}
	f, err := earlyFile(root, side.EarlySeccomp)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	return &EarlySeccomp{file: f}, nil
}
