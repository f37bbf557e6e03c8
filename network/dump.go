package network

import (
	"errors"

	"github.com/vishvananda/netlink"
)

// dumpTries bounds the retries of an interrupted netlink dump.
const dumpTries = 10

// redump runs a netlink dump again while the kernel reports it
// interrupted (NLM_F_DUMP_INTR, netlink.ErrDumpInterrupted): the list
// changed while it was read, as it does whenever another pod, of this
// root or another, or any other program of the node adds or deletes a
// link. The half-read list is no answer: the last pod's Teardown failed
// with "listing links: results may be incomplete or inconsistent" while
// another root set pods up.
func redump[T any](dump func() (T, error)) (T, error) {
	for i := 1; ; i++ {
		v, err := dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) || i == dumpTries {
			return v, err
		}
	}
}
