// Package oci is the library of podsec's OCI runtime, podsec-runtime
// (cmd/podsec-runtime answers runc's command line with it, one file per
// verb): the node policy every spec and every exec'd process is held to
// (package policy/ocispec, with this host's facts), the create and start
// of a container from a bundle, its state, the poststart hooks, events
// and resources in runc's forms, and the features document. It runs
// containers through podsec's one libcontainer adapter, internal/lc, as
// package runtime does.
//
// Where the OCI runtime command-line document is silent the behaviour is
// runc's: state lives in libcontainer's layout under --root (ROOT/ID/
// state.json), create detaches and leaves the container's init waiting on
// its exec fifo until start, errors go to the --log file (JSON lines with
// --log-format json, which containerd's shim reads) and to stderr.
//
// Differences from runc, on purpose:
//
//   - poststart hooks run after the start operation (start, or run once
//     the process runs), as the runtime spec says; a failing poststart
//     hook is logged and does not stop the container. libcontainer runs
//     them during create.
//   - the creating state is reported while create runs, from a file
//     podsec-runtime keeps beside libcontainer's state.
//   - kill --all signals every process of the container's cgroup.
//   - --systemd-cgroup is refused: podsec drives cgroupfs.
//   - no checkpoint and restore.
package oci
