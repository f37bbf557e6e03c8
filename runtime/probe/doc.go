// Package probe runs kubelet probes (exec, httpGet, tcpSocket) against a
// container and tracks their result the way the kubelet's prober workers
// do, for liveness, readiness and startup.
//
// Do makes one attempt. A Worker repeats attempts every periodSeconds after
// initialDelaySeconds and flips its state only after successThreshold or
// failureThreshold results in a row, reporting each change.
//
// gRPC probes are not implemented: Do returns Unknown for them, which a
// Worker treats as the kubelet treats a probe error, as no result.
package probe
