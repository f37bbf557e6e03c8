package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ErrEvicted: the node evicted the pod (it outgrew a local storage limit).
var ErrEvicted = errors.New("evicted")

// EvictedReason is the pod status reason of an evicted pod, the kubelet's.
const EvictedReason = "Evicted"

// DefaultHousekeepingInterval is how often a pod's local storage is
// measured against its limits unless the Config says otherwise: the
// kubelet's --housekeeping-interval.
const DefaultHousekeepingInterval = 10 * time.Second

// maxWalkEntries bounds one measurement of one directory: a pod that makes
// millions of files costs the node a bounded walk each interval, and what
// was counted up to the bound is its usage (an underestimate, never more).
const maxWalkEntries = 200000

// The kubelet's eviction messages (pkg/kubelet/eviction/helpers.go).
const (
	emptyDirMessageFmt                  = "Usage of EmptyDir volume %q exceeds the limit %q. "
	podEphemeralStorageMessageFmt       = "Pod ephemeral local storage usage exceeds the total limit of containers %s. "
	containerEphemeralStorageMessageFmt = "Container %s exceeded its local ephemeral storage limit %q. "
)

// needsStorageWatch reports whether the pod has a local storage limit to
// enforce: a disk emptyDir's sizeLimit or an ephemeral-storage limit.
func needsStorageWatch(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.EmptyDir != nil && v.EmptyDir.Medium != corev1.StorageMediumMemory && v.EmptyDir.SizeLimit != nil {
			return true
		}
	}
	for _, c := range allPodContainers(pod) {
		if _, ok := c.Resources.Limits[corev1.ResourceEphemeralStorage]; ok {
			return true
		}
	}
	return false
}

func allPodContainers(pod *corev1.Pod) []corev1.Container {
	return append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
}

// watchStorage measures the pod's local storage every interval until ctx
// ends, and evicts the pod once it outgrows a limit, as the kubelet's
// localStorageEviction does (no project quotas here: ext4 without
// prjquota, so usage is measured, as the kubelet does by default).
func (p *Pod) watchStorage(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if msg := p.storageViolation(); msg != "" {
			p.evict(msg)
			return
		}
	}
}

// storageViolation checks, in the kubelet's order, each disk emptyDir
// against its sizeLimit, the pod's local storage against its containers'
// total ephemeral-storage limit, then each container against its own,
// and returns the eviction message of the first one exceeded.
func (p *Pod) storageViolation() string {
	pod := p.pod
	var volumes int64
	for _, v := range pod.Spec.Volumes {
		// Local ephemeral volumes (the kubelet's IsLocalEphemeralVolume):
		// Memory emptyDirs are bounded by their tmpfs size.
		isDiskEmptyDir := v.EmptyDir != nil && v.EmptyDir.Medium != corev1.StorageMediumMemory
		if !isDiskEmptyDir && v.ConfigMap == nil && v.DownwardAPI == nil {
			continue
		}
		used := diskUsage(p.vols.dirs[v.Name])
		volumes += used
		if isDiskEmptyDir && v.EmptyDir.SizeLimit != nil && used > v.EmptyDir.SizeLimit.Value() {
			return fmt.Sprintf(emptyDirMessageFmt, v.Name, v.EmptyDir.SizeLimit.String())
		}
	}
	containers := map[string]int64{}
	var total int64
	for _, c := range allPodContainers(pod) {
		used := diskUsage(filepath.Join(p.rt.layout.ContainerDir(pod.Namespace, pod.Name, c.Name), "upper"))
		if p.rt.cfg.ContainerLogDir != nil {
			used += diskUsage(p.rt.cfg.ContainerLogDir(pod, c.Name))
		}
		containers[c.Name] = used
		total += used
	}
	if lim := p.res.EphemeralStorage; lim != nil && volumes+total > lim.Value() {
		return fmt.Sprintf(podEphemeralStorageMessageFmt, lim.String())
	}
	for _, c := range allPodContainers(pod) {
		if lim, ok := c.Resources.Limits[corev1.ResourceEphemeralStorage]; ok && containers[c.Name] > lim.Value() {
			return fmt.Sprintf(containerEphemeralStorageMessageFmt, c.Name, lim.String())
		}
	}
	return ""
}

// diskUsage is the space the files below dir take (allocated blocks, each
// inode once, as du counts), walking at most maxWalkEntries entries and
// never following a symlink or crossing into another filesystem.
func diskUsage(dir string) int64 {
	if dir == "" {
		return 0
	}
	root, err := os.Lstat(dir)
	if err != nil {
		return 0
	}
	rst, _ := root.Sys().(*syscall.Stat_t)
	seen := map[uint64]bool{}
	var total int64
	n := 0
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > maxWalkEntries {
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		if rst != nil && st.Dev != rst.Dev {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if st.Nlink > 1 && !d.IsDir() {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		total += st.Blocks * 512
		return nil
	})
	return total
}

// evict ends the pod as the kubelet evicts one: the reason is recorded
// first (so no container is restarted), an Evicted event names what
// outgrew its limit, and every container is killed at once (hard
// eviction has no grace period).
func (p *Pod) evict(msg string) {
	p.mu.Lock()
	if p.evicted != "" {
		p.mu.Unlock()
		return
	}
	p.evicted = msg
	close(p.evictedCh)
	p.mu.Unlock()
	p.rt.event(p.pod, EvictedReason, "%s", msg)
	p.Stop(0)
}

// Evicted is closed once the node has evicted the pod.
func (p *Pod) Evicted() <-chan struct{} { return p.evictedCh }

// Eviction is the message of the pod's eviction, "" while it is not
// evicted.
func (p *Pod) Eviction() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.evicted
}
