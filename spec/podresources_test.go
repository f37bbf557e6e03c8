package spec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func ctr(name string, limits, requests map[corev1.ResourceName]string) corev1.Container {
	c := corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{}, Requests: corev1.ResourceList{}}}
	for n, v := range limits {
		c.Resources.Limits[n] = resource.MustParse(v)
	}
	for n, v := range requests {
		c.Resources.Requests[n] = resource.MustParse(v)
	}
	return c
}

func TestPodResourceLimits(t *testing.T) {
	mem, cpu, eph := corev1.ResourceMemory, corev1.ResourceCPU, corev1.ResourceEphemeralStorage
	always := corev1.ContainerRestartPolicyAlways
	sidecar := ctr("side", map[corev1.ResourceName]string{mem: "10Mi", cpu: "100m"}, nil)
	sidecar.RestartPolicy = &always
	cases := []struct {
		name         string
		init, apps   []corev1.Container
		wantMem      int64
		wantQuota    int64
		wantShares   uint64
		wantStorage  string
		wantPids     int64
		pidsLimitArg int64
	}{
		{name: "best effort", apps: []corev1.Container{ctr("a", nil, nil)}, wantShares: 2},
		{name: "sum of apps", apps: []corev1.Container{
			ctr("a", map[corev1.ResourceName]string{mem: "64Mi", cpu: "500m"}, nil),
			ctr("b", map[corev1.ResourceName]string{mem: "32Mi", cpu: "250m"}, map[corev1.ResourceName]string{cpu: "100m"}),
		}, wantMem: 96 << 20, wantQuota: 75000, wantShares: 102, pidsLimitArg: 200, wantPids: 200},
		{name: "one without a memory limit leaves the pod unlimited", apps: []corev1.Container{
			ctr("a", map[corev1.ResourceName]string{mem: "64Mi"}, nil),
			ctr("b", map[corev1.ResourceName]string{cpu: "1"}, nil),
		}, wantShares: 2},
		{name: "an init container larger than the apps", init: []corev1.Container{
			ctr("i", map[corev1.ResourceName]string{mem: "200Mi", cpu: "1"}, nil),
		}, apps: []corev1.Container{
			ctr("a", map[corev1.ResourceName]string{mem: "64Mi", cpu: "500m"}, nil),
		}, wantMem: 200 << 20, wantQuota: 100000, wantShares: 2},
		{name: "sidecars add to the apps and to later init containers", init: []corev1.Container{
			sidecar, ctr("i", map[corev1.ResourceName]string{mem: "100Mi", cpu: "1"}, nil),
		}, apps: []corev1.Container{
			ctr("a", map[corev1.ResourceName]string{mem: "64Mi", cpu: "500m"}, nil),
		}, wantMem: 110 << 20, wantQuota: 110000, wantShares: 2},
		{name: "ephemeral storage adds up the declared limits", apps: []corev1.Container{
			ctr("a", map[corev1.ResourceName]string{eph: "20Mi"}, nil),
			ctr("b", nil, nil),
			ctr("c", map[corev1.ResourceName]string{eph: "100Mi"}, nil),
		}, wantShares: 2, wantStorage: "120Mi"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{InitContainers: tc.init, Containers: tc.apps}}
			got := PodResourceLimits(pod, tc.pidsLimitArg)
			if got.MemoryLimit != tc.wantMem || got.CPUQuota != tc.wantQuota || got.CPUShares != tc.wantShares || got.Pids != tc.wantPids {
				t.Errorf("PodResourceLimits() = %+v, want memory %d, quota %d, shares %d, pids %d", got, tc.wantMem, tc.wantQuota, tc.wantShares, tc.wantPids)
			}
			gotStorage := ""
			if got.EphemeralStorage != nil {
				gotStorage = got.EphemeralStorage.String()
			}
			if gotStorage != tc.wantStorage {
				t.Errorf("PodResourceLimits().EphemeralStorage = %q, want %q", gotStorage, tc.wantStorage)
			}
		})
	}
}

func TestMemoryEmptyDirSize(t *testing.T) {
	q := resource.MustParse("10Mi")
	cases := []struct {
		name         string
		v            corev1.EmptyDirVolumeSource
		podMem, node int64
		want         int64
	}{
		{"node memory without limits", corev1.EmptyDirVolumeSource{}, 0, 1 << 30, 1 << 30},
		{"pod limit", corev1.EmptyDirVolumeSource{}, 64 << 20, 1 << 30, 64 << 20},
		{"sizeLimit below the pod limit", corev1.EmptyDirVolumeSource{SizeLimit: &q}, 64 << 20, 1 << 30, 10 << 20},
		{"pod limit below sizeLimit", corev1.EmptyDirVolumeSource{SizeLimit: &q}, 5 << 20, 1 << 30, 5 << 20},
		{"sizeLimit alone", corev1.EmptyDirVolumeSource{SizeLimit: &q}, 0, 1 << 30, 10 << 20},
	}
	for _, tc := range cases {
		if got := MemoryEmptyDirSize(&tc.v, tc.podMem, tc.node); got != tc.want {
			t.Errorf("MemoryEmptyDirSize(%s) = %d, want %d", tc.name, got, tc.want)
		}
	}
}
