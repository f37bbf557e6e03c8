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
// Memory: the supervisor is the podsec binary (libcontainer, CNI, the
// Kubernetes types), about 6.5 MiB PSS and 17 MiB RSS. While its pod only
// needs watching it hands the pod to podsec-monitor, executed in its own
// process (Handoff), which costs about what conmon does, and takes it back
// for each exit, restart and stop (Resume). Pods with probes or local
// storage limits keep the supervisor: it runs their probes and measures
// their storage itself.
package supervisor
