// Package e2e runs podsec against real Kubernetes components built from the
// Go module proxy by scripts/e2e-build (etcd, kube-apiserver, kubectl,
// critest, crictl, containerd 2 and its shim, runc; versions in
// scripts/e2e-versions):
//
//   - the admission webhook registered in a real API server with RBAC and
//     client-certificate users (TestWebhook*);
//   - podsec-runtime as a CRI runtime handler of Debian's containerd 1.6
//     (TestCritest) and of containerd 2 (TestCritestContainerd2, where the
//     user namespace, rro and SupplementalGroupsPolicy cases must run):
//     containerd started with its own root, state, sockets, CNI network and
//     registry mirrors from deploy/containerd/, critest's images served as
//     busybox-static stand-ins by a read-only registry on loopback, critest
//     run with the handlers runc and podsec and compared case by case, then
//     again with the node policy at baseline. E2E_CRITEST_FOCUS=REGEXP runs
//     only those critest cases (then the floor of passes is not checked);
//     E2E_CRITEST_OUT=DIR keeps critest's logs and JUnit reports.
//
// The tests carry the build tag e2e, so that `make test` neither builds nor
// needs those components; `make e2e` builds them and runs
//
//	go test -tags seccomp,e2e ./test/e2e/
//
// with PODSEC_E2E_BIN pointing at their directory. They run as root; on CI
// (CI=true) a missing prerequisite fails, never skips. Everything listens on
// 127.0.0.1 only, on ports chosen at run time.
package e2e
