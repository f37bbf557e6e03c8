package admission

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPatch(t *testing.T) {
	tests := []struct {
		name   string
		change func(*corev1.Pod)
		want   string
	}{
		{name: "unchanged", change: func(*corev1.Pod) {}, want: `[]`},
		{name: "first annotation, escaped", change: func(p *corev1.Pod) { p.Annotations = map[string]string{"kubernetes.io/psp": "default"} },
			want: `[{"op":"add","path":"/metadata/annotations","value":{"kubernetes.io/psp":"default"}}]`},
		{name: "one more annotation", change: func(p *corev1.Pod) { p.Labels["a~b/c"] = "d" },
			want: `[{"op":"add","path":"/metadata/labels/a~0b~1c","value":"d"}]`},
		{name: "new security context", change: func(p *corev1.Pod) {
			p.Spec.Containers[1].SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: new(true)}
		}, want: `[{"op":"add","path":"/spec/containers/1/securityContext","value":{"readOnlyRootFilesystem":true}}]`},
		{name: "replace and remove", change: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.RunAsUser = new(int64(2))
			p.Spec.Containers[0].SecurityContext.Privileged = nil
		}, want: `[{"op":"remove","path":"/spec/containers/0/securityContext/privileged"},{"op":"replace","path":"/spec/containers/0/securityContext/runAsUser","value":2}]`},
		{name: "array of another length replaced whole", change: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL", "SYS_ADMIN"}}
		}, want: `[{"op":"replace","path":"/spec/containers/0/securityContext/capabilities/drop","value":["ALL","SYS_ADMIN"]}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := &corev1.Pod{}
			from.Name, from.Labels = "web", map[string]string{"app": "web"}
			from.Spec.Containers = []corev1.Container{
				{Name: "a", Image: "i", SecurityContext: &corev1.SecurityContext{RunAsUser: new(int64(1)), Privileged: new(false),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}},
				{Name: "b", Image: "i"},
			}
			to := from.DeepCopy()
			tc.change(to)
			got, err := Patch(from, to)
			if err != nil || string(got) != tc.want {
				t.Errorf("Patch(%s) = %s, %v; want %s", tc.name, got, err, tc.want)
			}
		})
	}
}
