package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/opencontainers/cgroups"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/spec"
)

// podCgroupPath is the pod's cgroup below the cgroup root: the parent of
// its containers' cgroups, so that everything they are charged for (their
// processes, and the tmpfs pages of Memory emptyDirs they write, which
// stay charged to the pod's cgroup after a container's own is gone) adds
// up under the pod's limits.
func podCgroupPath(l Layout, pod *corev1.Pod) string {
	return filepath.Dir(l.CgroupsPath(pod.Namespace, pod.Name, "x"))
}

// cgroupFile is one value written into a controller's directory.
type cgroupFile struct {
	controller, file, value string
}

// podCgroupFiles are the pod cgroup's values, as the kubelet's pod
// container manager sets them: cpu.shares always, the rest when the pod
// has the limit. v1 and v2 name them differently.
func podCgroupFiles(r spec.PodResources, v2 bool) []cgroupFile {
	var fs []cgroupFile
	if v2 {
		// The kubelet's conversion of shares to weight (cgroups.ConvertCPUSharesToCgroupV2Value).
		fs = append(fs, cgroupFile{"", "cpu.weight", strconv.FormatUint(cgroups.ConvertCPUSharesToCgroupV2Value(r.CPUShares), 10)})
		if r.CPUQuota > 0 {
			fs = append(fs, cgroupFile{"", "cpu.max", fmt.Sprintf("%d %d", r.CPUQuota, r.CPUPeriod)})
		}
		if r.MemoryLimit > 0 {
			fs = append(fs, cgroupFile{"", "memory.max", strconv.FormatInt(r.MemoryLimit, 10)})
		}
		if r.Pids > 0 {
			fs = append(fs, cgroupFile{"", "pids.max", strconv.FormatInt(r.Pids, 10)})
		}
		return fs
	}
	fs = append(fs, cgroupFile{"cpu", "cpu.shares", strconv.FormatUint(r.CPUShares, 10)})
	if r.CPUQuota > 0 {
		// The period first: a quota is checked against the period in place.
		fs = append(fs, cgroupFile{"cpu", "cpu.cfs_period_us", strconv.FormatUint(r.CPUPeriod, 10)},
			cgroupFile{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(r.CPUQuota, 10)})
	}
	if r.MemoryLimit > 0 {
		fs = append(fs, cgroupFile{"memory", "memory.limit_in_bytes", strconv.FormatInt(r.MemoryLimit, 10)})
	}
	if r.Pids > 0 {
		fs = append(fs, cgroupFile{"pids", "pids.max", strconv.FormatInt(r.Pids, 10)})
	}
	return fs
}

// createPodCgroup makes the pod's cgroup with its limits before any of
// its containers exists. Controllers without a limit are still made, so
// every container cgroup has the pod's as its parent (libcontainer makes
// only the missing levels).
func createPodCgroup(l Layout, pod *corev1.Pod, r spec.PodResources) (err error) {
	// The parent of a root other than the default one is removed with
	// its last pod, which may happen between the making of the parent and
	// of the pod below it: make them again.
	for try := 0; try < 3; try++ {
		if err = makePodCgroup(l, pod, r); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

func makePodCgroup(l Layout, pod *corev1.Pod, r spec.PodResources) error {
	rel := podCgroupPath(l, pod)
	v2 := cgroups.IsCgroup2UnifiedMode()
	if v2 {
		// Each level down to the pod must hand the controllers on.
		for _, d := range []string{cgroupRoot, filepath.Join(cgroupRoot, filepath.Dir(rel))} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("creating cgroup %q: %w", d, err)
			}
			if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+cpu +memory +pids"), 0); err != nil {
				return fmt.Errorf("enabling controllers in cgroup %q: %w", d, err)
			}
		}
		if err := os.MkdirAll(filepath.Join(cgroupRoot, rel), 0o755); err != nil {
			return fmt.Errorf("creating cgroup %q: %w", rel, err)
		}
	} else {
		for _, ctrl := range []string{"cpu", "memory", "pids"} {
			if err := os.MkdirAll(filepath.Join(cgroupRoot, ctrl, rel), 0o755); err != nil {
				return fmt.Errorf("creating cgroup %q: %w", ctrl+":"+rel, err)
			}
		}
	}
	for _, f := range podCgroupFiles(r, v2) {
		p := filepath.Join(cgroupRoot, f.controller, rel, f.file)
		if err := os.WriteFile(p, []byte(f.value), 0); err != nil {
			return fmt.Errorf("setting %s of cgroup %q to %s: %w", f.file, rel, f.value, err)
		}
	}
	return nil
}

// PodCgroupDir is the directory of the pod's cgroup, for the state root
// root, in one v1 controller's hierarchy (memory, cpu, pids), or in the
// unified hierarchy when the node runs cgroup v2 only; tests read the
// pod's usage there.
func PodCgroupDir(root, namespace, name, controller string) string {
	pod := &corev1.Pod{}
	pod.Namespace, pod.Name = namespace, name
	if cgroups.IsCgroup2UnifiedMode() {
		controller = ""
	}
	return filepath.Join(cgroupRoot, controller, podCgroupPath(Layout{Root: root}, pod))
}

// joinPodCgroup moves the pod's sandbox (pid) into the pod's cgroup, as the
// kubelet's pause container is: what the sandbox holds (its threads, the
// memory of its namespaces) counts against the pod's limits, not podsec's.
func joinPodCgroup(l Layout, pod *corev1.Pod, pid int) error {
	ctrls := []string{"cpu", "memory", "pids"}
	if cgroups.IsCgroup2UnifiedMode() {
		ctrls = []string{""}
	}
	for _, c := range ctrls {
		p := filepath.Join(PodCgroupDir(l.Root, pod.Namespace, pod.Name, c), "cgroup.procs")
		if err := os.WriteFile(p, []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("moving the pod sandbox into cgroup %s: %w", filepath.Dir(p), err)
		}
	}
	return nil
}
