// Package supervisor runs detached pods: each has a supervisor, podsec's
// own process (no conmon), which starts the pod through package runtime,
// reaps its containers, records their exits and reasons, writes their logs
// in the CRI format, runs their probes and applies restartPolicy with the
// kubelet's back-off. It survives the command that started it.
//
// A pod's record lives under <root>/supervisor/<namespace>/<name>: the pod
// as run (pod.json), the ConfigMaps and Secrets given with it
// (sources.json), its status as Kubernetes fills it (status.json), the
// events of its life (events.jsonl), the supervisor's identity
// (supervisor.json) and the containers' logs (logs/<container>/<n>.log).
// The supervisor is the only writer of status and events; every write is
// atomic, so readers never see half a file.
//
// Memory: a supervisor is the podsec binary (libcontainer, CNI, the
// Kubernetes types), so it costs far more than conmon: measured with
// scripts/bench (5 pods), about 6.5 MiB PSS and 17 MiB RSS each once
// Settle has run, against conmon's 1 MiB and 2 MiB. Of the PSS, about
// 5 MiB is its own (a 1 MiB live heap, encoding/json's type cache of the
// Kubernetes types among it, spread over 3 MiB of spans, and the Go
// runtime's own); a trivial Go program already takes 1.1 MiB PSS and
// 2.8 MiB RSS here. conmon's figures need a small process that only
// waits, reaps and copies logs, with starts, restarts, exec probes and
// cleanup done by short-lived podsec processes, which in turn needs a
// runtime.Pod that can be resumed from its state on disk.
package supervisor
