package supervisor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/runtime"
)

// pruneLogs removes the log files (rotated ones included) of a container's
// starts before the previous one, as the kubelet keeps only the current
// and the previous container's logs: a crash-looping container otherwise
// keeps a log of up to 50 MiB for every start it ever made. `podsec logs
// --previous` reads the one kept.
func pruneLogs(dir string, attempt int) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		i := strings.Index(name, ".log")
		if i <= 0 {
			continue
		}
		n, err := strconv.Atoi(name[:i])
		if err != nil || n >= attempt-1 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// eventType is the type of a runtime event: Warning for what went wrong.
func eventType(reason string) string {
	if reason == runtime.EvictedReason {
		return "Warning"
	}
	return "Normal"
}

// markEvicted records the node's eviction in the status as the kubelet
// does: phase Failed, reason Evicted, and the message naming the limit.
func (sv *supervisor) markEvicted() {
	msg := sv.p.Eviction()
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.status.Reason == runtime.EvictedReason {
		return
	}
	sv.status.Phase, sv.status.Reason, sv.status.Message = corev1.PodFailed, runtime.EvictedReason, msg
	for _, c := range sv.ctrs {
		c.waiting = false
	}
}
