// Package netprobe is the part of the kubelet's probing that needs no
// Kubernetes types and no net package: a probe's result and kind, its
// thresholds (State), and tcpSocket and plain-HTTP httpGet attempts made
// on raw sockets through the runtime's poller. It is what podsec-monitor,
// a small static watcher, links in to probe a pod while the supervisor is
// away; runtime/probe builds on it and turns a corev1.Probe into a Spec.
package netprobe
