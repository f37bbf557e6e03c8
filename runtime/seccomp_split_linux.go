package runtime

import (
	"os"

	"github.com/opencontainers/runc/libcontainer/configs"

	"github.com/podsec/podsec/internal/seccompsplit"
)

// A container's profile is split into an early filter, cached, and a
// late one (package seccompsplit, shared with podsec-runtime). These are
// the runtime's names for it.
//
// The late filter alone is far weaker than the profile, so the
// container's process must never be executed without the early one: the
// init refuses to go on without it when podsec marked it as split
// (askEarly, ContainerInit), and a container's init is counted at the exec
// fifo before its process is executed ((*container).run).

// seccompSplit is a container's profile as an early and a late filter.
type seccompSplit struct {
	early, late *configs.Seccomp
	filters     *seccompsplit.Filters
}

// splitSeccomp splits cfg, or returns nil when its split would not be
// exact (seccompsplit.Split).
func splitSeccomp(cfg *configs.Seccomp) *seccompSplit {
	f := seccompsplit.Split(cfg)
	if f == nil {
		return nil
	}
	return &seccompSplit{early: f.Early, late: f.Late, filters: f}
}

// bpfMaxBytes bounds a seccomp program.
const bpfMaxBytes = seccompsplit.MaxBytes

var (
	sealedMemfd         = seccompsplit.SealedMemfd
	checkSeccompFilters = seccompsplit.CheckFilters
)

// earlyFilter is the early filter's sealed memory file for a container's
// init (earlyMemfd), its program from the seccomp cache under root.
func earlyFilter(root string, sp *seccompSplit) (*os.File, error) {
	b, err := seccompsplit.EarlyContent(root, sp.filters)
	if err != nil {
		return nil, err
	}
	return earlyMemfd(seccompsplit.EarlyMemfdName, b)
}

// SeccompExportArg is the first argument with which podsec re-executes
// itself to make a container's early seccomp program (SeccompExportMain).
const SeccompExportArg = seccompsplit.ExportArg

// SeccompExportMain makes a container's early seccomp program for its
// tracer; it never returns.
func SeccompExportMain() { seccompsplit.ExportMain() }
