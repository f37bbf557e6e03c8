package main

/*
#include <malloc.h>
#include <stdlib.h>

// reserve_heap grows glibc's main heap by n bytes of address space and
// keeps it: the heap is never trimmed and allocations of up to n come from
// it rather than from mmap(2). The pages are not touched, so this costs no
// memory, only address space taken before the limits land.
static void reserve_heap(size_t n) {
	mallopt(M_TRIM_THRESHOLD, (int)(n * 4));
	mallopt(M_MMAP_THRESHOLD, (int)(n * 2));
	// volatile: the compiler may drop a malloc whose result is only freed.
	void *volatile p = malloc(n);
	free(p);
}
*/
import "C"

// initHeapReserve is the C heap the container init keeps for what it
// allocates after its rlimits are applied, libseccomp's filter above all.
// Ample: a filter of the whole RuntimeDefault profile takes well under 1 MiB.
const initHeapReserve = 16 << 20

// reserveInitHeap lets the container init live with a small RLIMIT_AS.
// libcontainer sets the spec's rlimits on the init (prlimit from the parent)
// as soon as it reports ready, and the init then builds its seccomp filter
// with libseccomp, which mallocs. Any Go program of Go 1.21 and later has
// already reserved about 1.2 GiB of address space by then (PROT_NONE
// page-allocator summaries and the scavenger index for the 48-bit heap,
// fixed in the runtime: GOGC, GOMEMLIMIT and GODEBUG do not change them),
// so with RLIMIT_AS at 1 GiB every new mapping fails and the create fails
// with ENOMEM. runc 1.1.5 built with Go 1.19 has no scavenger index and
// stays just under 1 GiB. Growing the C heap before the limits land makes
// those allocations fit; the container's own process starts after execve
// with a fresh address space under the limit it asked for.
func reserveInitHeap() {
	C.reserve_heap(initHeapReserve)
}
