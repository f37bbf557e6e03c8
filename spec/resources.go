package spec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// Kubelet constants for CPU and OOM scores (pkg/kubelet/cm, pkg/kubelet/qos).
const (
	cpuPeriod             = 100000
	minShares             = 2
	maxShares             = 262144
	minQuota              = 1000
	guaranteedOOMScoreAdj = -997
	besteffortOOMScoreAdj = 1000
	burstableMinOOMScore  = 1000 + guaranteedOOMScoreAdj
	burstableMaxOOMScore  = besteffortOOMScoreAdj - 1
	millisPerCPU          = 1000
	sharesPerCPU          = 1024
)

// withResources turns requests and limits into cgroup values as the kubelet
// does: cpu shares from the request (2 without one), a CFS quota from the
// limit over a 100 ms period, the memory limit, and the oom_score_adj of
// the pod's QoS class.
func withResources(c *Container, s *specs.Spec) error {
	r := s.Linux.Resources
	req, lim := c.C.Resources.Requests, c.C.Resources.Limits
	shares := uint64(minShares)
	if q, ok := req[corev1.ResourceCPU]; ok {
		shares = uint64(clamp(q.MilliValue()*sharesPerCPU/millisPerCPU, minShares, maxShares))
	}
	r.CPU = &specs.LinuxCPU{Shares: &shares}
	if q, ok := lim[corev1.ResourceCPU]; ok {
		quota := max(q.MilliValue()*cpuPeriod/millisPerCPU, minQuota)
		period := uint64(cpuPeriod)
		r.CPU.Quota, r.CPU.Period = &quota, &period
	}
	if q, ok := lim[corev1.ResourceMemory]; ok {
		mem := q.Value()
		r.Memory = &specs.LinuxMemory{Limit: &mem}
	}
	if c.Options.PidsLimit > 0 {
		r.Pids = &specs.LinuxPids{Limit: ptr(c.Options.PidsLimit)}
	}
	score := c.oomScoreAdj()
	s.Process.OOMScoreAdj = &score
	return nil
}

// QOSClass is the pod's quality of service class, as Kubernetes computes it.
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	anySet, guaranteed := false, true
	for _, c := range all {
		for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			rq, hasReq := c.Resources.Requests[n]
			lq, hasLim := c.Resources.Limits[n]
			if hasReq || hasLim {
				anySet = true
			}
			if !hasLim || (hasReq && rq.Cmp(lq) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case !anySet:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func (c *Container) oomScoreAdj() int {
	switch QOSClass(c.Pod) {
	case corev1.PodQOSGuaranteed:
		return guaranteedOOMScoreAdj
	case corev1.PodQOSBestEffort:
		return besteffortOOMScoreAdj
	}
	mem := c.Options.NodeMemoryBytes
	q, ok := c.C.Resources.Requests[corev1.ResourceMemory]
	if mem <= 0 || !ok {
		return burstableMaxOOMScore
	}
	score := 1000 - (1000*q.Value())/mem
	return int(clamp(score, burstableMinOOMScore, burstableMaxOOMScore))
}

func clamp(v, lo, hi int64) int64 {
	return min(max(v, lo), hi)
}
