package admission

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestOnlyGCFieldsChanged is 1.24's IsOnlyMutatingGCFields: ownerReferences,
// finalizers, selfLink and managedFields (which the API server rewrites on
// every write) may change; anything else makes the update a real one.
func TestOnlyGCFieldsChanged(t *testing.T) {
	base := func() *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "m"}}}}
		p.Name, p.ResourceVersion = "web", "7"
		p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}}
		return p
	}
	for _, tc := range []struct {
		name   string
		change func(*corev1.Pod)
		want   bool
	}{
		{"nothing", func(*corev1.Pod) {}, true},
		{"finalizers", func(p *corev1.Pod) { p.Finalizers = []string{"example.com/x"} }, true},
		{"ownerReferences", func(p *corev1.Pod) { p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "rs"}} }, true},
		{"managedFields", func(p *corev1.Pod) {
			p.ManagedFields = append(p.ManagedFields, metav1.ManagedFieldsEntry{Manager: "gc"})
		}, true},
		{"selfLink", func(p *corev1.Pod) { p.SelfLink = "/api/v1/namespaces/default/pods/web" }, true},
		{"finalizers and managedFields", func(p *corev1.Pod) {
			p.Finalizers = []string{"example.com/x"}
			p.ManagedFields = nil
		}, true},
		{"labels", func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }, false},
		{"annotations", func(p *corev1.Pod) { p.Annotations = map[string]string{"a": "b"} }, false},
		{"image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "m2" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.change(p)
			if got := onlyGCFieldsChanged(p, base()); got != tc.want {
				t.Errorf("onlyGCFieldsChanged(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
	if onlyGCFieldsChanged(base(), nil) {
		t.Error("onlyGCFieldsChanged(pod, nil) = true, want false")
	}
}
