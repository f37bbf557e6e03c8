// Package e2e runs podsec against real Kubernetes components built from the
// Go module proxy by scripts/e2e-build (etcd, kube-apiserver, kubectl,
// critest, crictl; versions in scripts/e2e-versions): today, the admission
// webhook registered in a real API server with RBAC and client-certificate
// users. critest and crictl are built for the next step, podsec-runtime as a
// containerd CRI runtime handler (issue 17), which has no test here yet.
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
