// Package seccompsplit starts containers under a cached seccomp program:
// a container's profile is split into an early filter, compiled once by
// libcontainer's own code and kept in a cache of compiled programs under
// the state root, which the container's init loads from a sealed memory
// file before libcontainer sets the container up, and a late filter of a
// handful of rules that libcontainer compiles and loads as it would the
// whole profile. podsec's runtime and podsec-runtime both start
// containers this way; the cache also serves the pod sandbox's filter.
//
// It holds no Kubernetes types, so that podsec-runtime, whose init is
// re-executed for every container, stays small.
package seccompsplit
