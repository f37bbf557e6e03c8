// Package attack is podsec's attack suite: each test runs a real attack
// from inside a real container (or a real OCI bundle) against the built
// binaries and asserts that podsec refuses or contains it. Every test fails
// on the code before the fix it guards; docs/security.md maps each threat
// to its test.
//
// The tests need root; on CI (CI=true) they never skip. The attacker
// program (./attacker) is a static binary mounted read-only into pods at
// /attacker: the test image's busybox has no keyctl, raw sockets or
// ptrace, so the attacks are written in Go.
package attack
