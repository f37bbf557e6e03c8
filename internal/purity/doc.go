// Package purity holds the test that enforces STYLE.md's boundary: the
// pure packages (spec, seccomp, policy/..., pipeline) translate and decide
// and never reach the kernel, so that they are tested with tables and
// golden files alone. Its test fails when one of them comes to depend,
// directly or through any other package, on x/sys/unix, libcontainer,
// os/exec, netlink, nftables or CNI.
//
// One exception, as in scripts/lint: seccomp takes moby's default profile
// from github.com/moby/profiles/seccomp, which brings x/sys/unix for
// constants and uname(2); what that package imports is its own affair.
package purity
