// Package memtrim shapes a long-lived, mostly idle process of podsec (a
// detached pod's supervisor or monitor) for its watch: a smaller heap
// goal, the start-up's heap given back to the kernel, and its binary's
// code and read-only data mapped page by page rather than in 2 MiB
// blocks. It changes process-wide settings: only those processes call it.
package memtrim
