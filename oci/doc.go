// Package oci is podsec's OCI runtime command line: the verbs and flags
// runc defined (create, start, state, kill, delete, run, exec, ps, list,
// pause, resume, update, events, features), so that containerd's runc
// shim, podman (through conmon), CRI-O and Docker can drive podsec as
// their runtime. It runs containers with runc's libcontainer, as podsec's
// runtime package does, and holds every spec (and every exec'd process)
// to the node's Pod Security Standards level (package policy/ocispec)
// before anything is created.
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
