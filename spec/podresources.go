package spec

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// PodResources are the pod-level cgroup values and storage limits of a pod,
// as the kubelet derives them (pkg/kubelet/cm ResourceConfigForPod over
// component-helpers' PodRequests and PodLimits). A zero field sets no
// limit.
type PodResources struct {
	// MemoryLimit is the pod cgroup's memory limit in bytes: the pod's
	// memory limit, set only when every container has one.
	MemoryLimit int64
	// CPUShares is cpu.shares from the pod's cpu requests (2 without).
	CPUShares uint64
	// CPUQuota and CPUPeriod are the CFS quota of the pod's cpu limit, set
	// only when every container has one.
	CPUQuota  int64
	CPUPeriod uint64
	// Pids is the node's --pod-pids-limit.
	Pids int64
	// EphemeralStorage is the pod's ephemeral-storage limit: the kubelet
	// evicts the pod whose local storage grows past it. As PodLimits does,
	// it adds up the containers that declare one.
	EphemeralStorage *resource.Quantity
}

// PodResourceLimits computes a pod's PodResources; pidsLimit is the node's
// pod PID limit (0 for none).
func PodResourceLimits(pod *corev1.Pod, pidsLimit int64) PodResources {
	limits := podAggregate(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits })
	requests := podAggregate(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Requests })
	memAll, cpuAll := true, true
	for _, c := range allContainers(pod) {
		if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
			memAll = false
		}
		if _, ok := c.Resources.Limits[corev1.ResourceCPU]; !ok {
			cpuAll = false
		}
	}
	r := PodResources{CPUShares: minShares, Pids: max(pidsLimit, 0)}
	if q, ok := requests[corev1.ResourceCPU]; ok {
		r.CPUShares = uint64(clamp(q.MilliValue()*sharesPerCPU/millisPerCPU, minShares, maxShares))
	}
	// BestEffort pods keep the minimum shares, and a limit counts only
	// when every container declares one (the kubelet's
	// cpuLimitsDeclared and memoryLimitsDeclared).
	if QOSClass(pod) == corev1.PodQOSBestEffort {
		r.CPUShares = minShares
	}
	if q, ok := limits[corev1.ResourceCPU]; ok && cpuAll {
		r.CPUQuota = max(q.MilliValue()*cpuPeriod/millisPerCPU, minQuota)
		r.CPUPeriod = cpuPeriod
	}
	if q, ok := limits[corev1.ResourceMemory]; ok && memAll {
		r.MemoryLimit = q.Value()
	}
	if q, ok := limits[corev1.ResourceEphemeralStorage]; ok {
		r.EphemeralStorage = &q
	}
	return r
}

// podAggregate adds up a resource list over a pod as PodLimits and
// PodRequests do: the app containers and sidecars (restartable init
// containers) add up; each other init container runs alone with the
// sidecars started before it, so the pod needs the largest of those and of
// the sum; the pod's overhead is added to what is declared.
func podAggregate(pod *corev1.Pod, get func(*corev1.Container) corev1.ResourceList) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		addList(sum, get(&pod.Spec.Containers[i]))
	}
	sidecars := corev1.ResourceList{}
	initMax := corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addList(sum, get(c))
			addList(sidecars, get(c))
			maxList(initMax, sidecars)
			continue
		}
		one := corev1.ResourceList{}
		addList(one, get(c))
		addList(one, sidecars)
		maxList(initMax, one)
	}
	maxList(sum, initMax)
	for n, q := range pod.Spec.Overhead {
		if cur, ok := sum[n]; ok {
			cur.Add(q)
			sum[n] = cur
		}
	}
	return sum
}

func addList(dst, src corev1.ResourceList) {
	for n, q := range src {
		cur, ok := dst[n]
		if !ok {
			dst[n] = q.DeepCopy()
			continue
		}
		cur.Add(q)
		dst[n] = cur
	}
}

func maxList(dst, src corev1.ResourceList) {
	for n, q := range src {
		if cur, ok := dst[n]; !ok || q.Cmp(cur) > 0 {
			dst[n] = q.DeepCopy()
		}
	}
}

func allContainers(pod *corev1.Pod) []corev1.Container {
	return append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
}

// MemoryEmptyDirSize is the size of a Memory emptyDir's tmpfs, as the
// kubelet sizes it: the smaller of its sizeLimit and the pod's memory
// limit, whichever is set, else the node's memory (its allocatable), so
// that no Memory emptyDir defaults to half the node's RAM.
func MemoryEmptyDirSize(v *corev1.EmptyDirVolumeSource, podMemoryLimit, nodeMemory int64) int64 {
	size := nodeMemory
	if podMemoryLimit > 0 {
		size = podMemoryLimit
	}
	if v.SizeLimit != nil && v.SizeLimit.Value() > 0 && (size <= 0 || v.SizeLimit.Value() < size) {
		size = v.SizeLimit.Value()
	}
	return size
}
