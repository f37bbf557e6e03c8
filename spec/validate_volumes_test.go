package spec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidatePodVolumes(t *testing.T) {
	source := func(i int, vs corev1.VolumeSource) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Volumes[i].VolumeSource = vs }
	}
	hostPath := func(path string, typ corev1.HostPathType) func(*corev1.Pod) {
		return source(1, corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &typ}})
	}
	emptyDir := func(ed corev1.EmptyDirVolumeSource) func(*corev1.Pod) {
		return source(0, corev1.VolumeSource{EmptyDir: &ed})
	}
	runValidateCases(t, []validateCase{
		{"no name", nil, func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}, []wantErr{{"spec.volumes[2].name", field.ErrorTypeRequired}}},
		{"name not a label", nil, func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "Cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}, []wantErr{{"spec.volumes[2].name", field.ErrorTypeInvalid}}},
		{"duplicate name", nil, func(p *corev1.Pod) { p.Spec.Volumes[1].Name = "data" }, []wantErr{
			{"spec.volumes[1].name", field.ErrorTypeDuplicate},
			// The mount of "config" now names no volume.
			{"spec.containers[0].volumeMounts[1].name", field.ErrorTypeNotFound},
		}},
		{"no source", nil, source(0, corev1.VolumeSource{}), []wantErr{{"spec.volumes[0]", field.ErrorTypeRequired}}},
		{"two sources", nil, source(0, corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/x"},
		}), []wantErr{{"spec.volumes[0].emptyDir", field.ErrorTypeForbidden}}},
		{"configMap without a name", nil, source(1, corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}), []wantErr{{"spec.volumes[1].configMap.name", field.ErrorTypeRequired}}},
		{"configMap", nil, source(1, corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
			Items: []corev1.KeyToPath{{Key: "a", Path: "dir/a", Mode: ptr(int32(0o400))}}, DefaultMode: ptr(int32(0o644))}}), nil},
		{"configMap item path escapes", nil, source(1, corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
			Items: []corev1.KeyToPath{{Key: "a", Path: "../a"}, {Key: "b", Path: "/etc/b"}, {Key: "c/d", Path: "x/../../y"}}}}),
			[]wantErr{{"spec.volumes[1].configMap.items[0].path", field.ErrorTypeInvalid}, {"spec.volumes[1].configMap.items[1].path", field.ErrorTypeInvalid},
				{"spec.volumes[1].configMap.items[2].key", field.ErrorTypeInvalid}, {"spec.volumes[1].configMap.items[2].path", field.ErrorTypeInvalid}}},
		{"secret mode too large", nil, source(1, corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: ptr(int32(0o1777))}}),
			[]wantErr{{"spec.volumes[1].secret.defaultMode", field.ErrorTypeInvalid}}},
		{"downwardAPI", nil, source(1, corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "ip", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}},
			{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}}}}),
			[]wantErr{{"spec.volumes[1].downwardAPI.items[1].fieldRef.fieldPath", field.ErrorTypeNotSupported}, {"spec.volumes[1].downwardAPI.items[2].fieldRef", field.ErrorTypeRequired}}},
		{"persistentVolumeClaim", nil, source(1, corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}),
			[]wantErr{{"spec.volumes[1].persistentVolumeClaim", field.ErrorTypeForbidden}}},
		{"secret and projected", nil, source(1, corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}, Projected: &corev1.ProjectedVolumeSource{}}),
			[]wantErr{{"spec.volumes[1].secret.secretName", field.ErrorTypeRequired}, {"spec.volumes[1].projected", field.ErrorTypeForbidden}}},
		{"emptyDir default medium", nil, emptyDir(corev1.EmptyDirVolumeSource{}), nil},
		{"emptyDir HugePages", nil, emptyDir(corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumHugePages}), []wantErr{{"spec.volumes[0].emptyDir.medium", field.ErrorTypeNotSupported}}},
		{"emptyDir HugePages-2Mi", nil, emptyDir(corev1.EmptyDirVolumeSource{Medium: "HugePages-2Mi"}), []wantErr{{"spec.volumes[0].emptyDir.medium", field.ErrorTypeNotSupported}}},
		{"emptyDir negative sizeLimit", nil, emptyDir(corev1.EmptyDirVolumeSource{SizeLimit: valPtr(resource.MustParse("-1Gi"))}), []wantErr{{"spec.volumes[0].emptyDir.sizeLimit", field.ErrorTypeInvalid}}},
		{"emptyDir zero sizeLimit", nil, emptyDir(corev1.EmptyDirVolumeSource{SizeLimit: valPtr(resource.MustParse("0"))}), nil},
		{"hostPath no path", nil, hostPath("", corev1.HostPathUnset), []wantErr{{"spec.volumes[1].hostPath.path", field.ErrorTypeRequired}}},
		{"hostPath relative", nil, hostPath("etc/web", corev1.HostPathUnset), []wantErr{{"spec.volumes[1].hostPath.path", field.ErrorTypeInvalid}}},
		{"hostPath backsteps", nil, hostPath("/srv/../etc", corev1.HostPathUnset), []wantErr{{"spec.volumes[1].hostPath.path", field.ErrorTypeInvalid}}},
		{"hostPath type", nil, hostPath("/srv", "Dir"), []wantErr{{"spec.volumes[1].hostPath.type", field.ErrorTypeNotSupported}}},
		{"hostPath socket", nil, hostPath("/run/x.sock", corev1.HostPathSocket), nil},
		{"hostPath no type", nil, source(1, corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv"}}), nil},
	})
}

func TestValidatePodVolumeMounts(t *testing.T) {
	mount := func(i int, mutate func(*corev1.VolumeMount)) func(*corev1.Pod) {
		return func(p *corev1.Pod) { mutate(&p.Spec.Containers[0].VolumeMounts[i]) }
	}
	vm := func(i int, f string) string {
		return "spec.containers[0].volumeMounts[" + string(rune('0'+i)) + "]." + f
	}
	runValidateCases(t, []validateCase{
		{"no name", nil, mount(0, func(m *corev1.VolumeMount) { m.Name = "" }), []wantErr{{vm(0, "name"), field.ErrorTypeRequired}}},
		{"unknown volume", nil, mount(0, func(m *corev1.VolumeMount) { m.Name = "x" }), []wantErr{{vm(0, "name"), field.ErrorTypeNotFound}}},
		{"init container unknown volume", nil, func(p *corev1.Pod) { p.Spec.InitContainers[0].VolumeMounts[0].Name = "cache" },
			[]wantErr{{"spec.initContainers[0].volumeMounts[0].name", field.ErrorTypeNotFound}}},
		{"no mountPath", nil, mount(0, func(m *corev1.VolumeMount) { m.MountPath = "" }), []wantErr{{vm(0, "mountPath"), field.ErrorTypeRequired}}},
		{"relative mountPath", nil, mount(0, func(m *corev1.VolumeMount) { m.MountPath = "data" }), []wantErr{{vm(0, "mountPath"), field.ErrorTypeInvalid}}},
		{"same mountPath", nil, mount(1, func(m *corev1.VolumeMount) { m.MountPath = "/data/" }), []wantErr{{vm(1, "mountPath"), field.ErrorTypeInvalid}}},
		{"same volume twice", nil, mount(1, func(m *corev1.VolumeMount) { m.Name = "data" }), nil},
		{"absolute subPath", nil, mount(1, func(m *corev1.VolumeMount) { m.SubPath = "/conf.d" }), []wantErr{{vm(1, "subPath"), field.ErrorTypeInvalid}}},
		{"subPath backsteps", nil, mount(1, func(m *corev1.VolumeMount) { m.SubPath = "a/../../b" }), []wantErr{{vm(1, "subPath"), field.ErrorTypeInvalid}}},
		{"subPathExpr", nil, mount(1, func(m *corev1.VolumeMount) { m.SubPath, m.SubPathExpr = "", "$(POD_NAME)" }), []wantErr{{vm(1, "subPathExpr"), field.ErrorTypeForbidden}}},
		{"mountPropagation", nil, mount(0, func(m *corev1.VolumeMount) { m.MountPropagation = valPtr(corev1.MountPropagationMode("Shared")) }),
			[]wantErr{{vm(0, "mountPropagation"), field.ErrorTypeNotSupported}}},
		{"HostToContainer", nil, mount(0, func(m *corev1.VolumeMount) { m.MountPropagation = valPtr(corev1.MountPropagationHostToContainer) }), nil},
		{"Bidirectional unprivileged", nil, mount(0, func(m *corev1.VolumeMount) { m.MountPropagation = valPtr(corev1.MountPropagationBidirectional) }),
			[]wantErr{{vm(0, "mountPropagation"), field.ErrorTypeForbidden}}},
		{"Bidirectional privileged", nil, func(p *corev1.Pod) {
			app(p).SecurityContext.Privileged = valPtr(true)
			app(p).SecurityContext.AllowPrivilegeEscalation = nil
			p.Spec.Containers[0].VolumeMounts[0].MountPropagation = valPtr(corev1.MountPropagationBidirectional)
		}, nil},
		{"recursiveReadOnly not readOnly", nil, mount(1, func(m *corev1.VolumeMount) { m.ReadOnly = false }),
			[]wantErr{{vm(1, "recursiveReadOnly"), field.ErrorTypeForbidden}}},
		{"recursiveReadOnly with propagation", nil, mount(1, func(m *corev1.VolumeMount) {
			m.RecursiveReadOnly = valPtr(corev1.RecursiveReadOnlyEnabled)
			m.MountPropagation = valPtr(corev1.MountPropagationHostToContainer)
		}), []wantErr{{vm(1, "recursiveReadOnly"), field.ErrorTypeForbidden}}},
		{"recursiveReadOnly unknown", nil, mount(1, func(m *corev1.VolumeMount) { m.RecursiveReadOnly = valPtr(corev1.RecursiveReadOnlyMode("Always")) }),
			[]wantErr{{vm(1, "recursiveReadOnly"), field.ErrorTypeNotSupported}}},
		{"recursiveReadOnly Disabled", nil, mount(0, func(m *corev1.VolumeMount) { m.RecursiveReadOnly = valPtr(corev1.RecursiveReadOnlyDisabled) }), nil},
	})
}
