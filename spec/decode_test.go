package spec

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestDecodePods(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantPods []string
		wantErr  []string // substrings, all must appear
		wantIs   error
	}{
		{
			name:     "yaml one pod",
			in:       "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: i}]}\n",
			wantPods: []string{"a"},
		},
		{
			name:     "yaml many documents with comments and empty ones",
			in:       "# first\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: i}]}\n---\n---\n# nothing\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: [{name: c, image: i}]}\n",
			wantPods: []string{"a", "b"},
		},
		{
			name:     "json",
			in:       `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"i"}]}}`,
			wantPods: []string{"j"},
		},
		{
			name:     "v1 List",
			in:       `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"c","image":"i"}]}}]}`,
			wantPods: []string{"x"},
		},
		{
			name:    "unknown field with its path",
			in:      "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContxt: {}\n",
			wantErr: []string{"document 1: spec.containers[0].securityContxt: unknown field"},
			wantIs:  ErrUnknownField,
		},
		{
			name:    "every unknown field at once",
			in:      "apiVersion: v1\nkind: Pod\nmetadata: {name: a, nmespace: x}\nspec:\n  hostNetwrk: true\n  containers:\n  - name: c\n    image: i\n",
			wantErr: []string{"metadata.nmespace: unknown field", "spec.hostNetwrk: unknown field"},
		},
		{
			name:    "duplicate key",
			in:      "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nmetadata: {name: b}\nspec: {containers: [{name: c, image: i}]}\n",
			wantErr: []string{"document 1", "metadata"},
			wantIs:  ErrInvalidManifest,
		},
		{
			name:    "other kind",
			in:      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
			wantErr: []string{`Deployment "apps/v1"`, "podsec reads Pods"},
			wantIs:  ErrUnsupportedKind,
		},
		{
			name:    "missing kind",
			in:      "apiVersion: v1\nmetadata: {name: d}\n",
			wantErr: []string{"kind: Required value"},
			wantIs:  ErrRequired,
		},
		{
			name:    "wrong type",
			in:      "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: i, securityContext: {runAsUser: root}}]}\n",
			wantErr: []string{"runAsUser", "number"},
			wantIs:  ErrInvalidManifest,
		},
		{
			name:    "not yaml",
			in:      "apiVersion: v1\nkind: Pod\n  bad: [indent\n",
			wantIs:  ErrInvalidManifest,
			wantErr: []string{"document 1"},
		},
		{
			name:    "empty",
			in:      "\n# only a comment\n",
			wantIs:  ErrInvalidManifest,
			wantErr: []string{"no objects"},
		},
		{
			name:    "scalar document",
			in:      "just a string\n",
			wantIs:  ErrInvalidManifest,
			wantErr: []string{"not an object"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pods, err := DecodePods(strings.NewReader(tc.in))
			if len(tc.wantErr) == 0 && tc.wantIs == nil {
				if err != nil {
					t.Fatalf("DecodePods() = %v, want no error", err)
				}
				var names []string
				for _, p := range pods {
					names = append(names, p.Name)
				}
				if strings.Join(names, ",") != strings.Join(tc.wantPods, ",") {
					t.Fatalf("DecodePods() names = %v, want %v", names, tc.wantPods)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodePods() = %d pods, want error", len(pods))
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("DecodePods() error %q does not contain %q", err, w)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("DecodePods() error %v is not %v", err, tc.wantIs)
			}
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	big := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    x: \"" + strings.Repeat("a", maxManifestBytes) + "\"\n"
	if _, err := DecodePods(strings.NewReader(big)); !errors.Is(err, ErrInvalidManifest) {
		t.Fatalf("DecodePods(%d bytes) = %v, want %v", len(big), err, ErrInvalidManifest)
	}
}

func TestSetDefaults(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{
			{Name: "a", Image: "busybox", Ports: []corev1.ContainerPort{{ContainerPort: 80}}},
			{Name: "b", Image: "busybox:1.36"},
			{Name: "c", Image: "reg:5000/busybox"},
			{Name: "d", Image: "busybox@sha256:abc"},
			{Name: "e", Image: "busybox:latest"},
		},
		Volumes: []corev1.Volume{{Name: "v"}},
	}}
	SetDefaults(pod)
	s := pod.Spec
	checks := []struct {
		what      string
		got, want any
	}{
		{"namespace", pod.Namespace, "default"},
		{"restartPolicy", s.RestartPolicy, corev1.RestartPolicyAlways},
		{"terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, int64(30)},
		{"dnsPolicy", s.DNSPolicy, corev1.DNSClusterFirst},
		{"ports[0].protocol", s.Containers[0].Ports[0].Protocol, corev1.ProtocolTCP},
		{"ports[0].hostPort with hostNetwork", s.Containers[0].Ports[0].HostPort, int32(80)},
		{"imagePullPolicy untagged", s.Containers[0].ImagePullPolicy, corev1.PullAlways},
		{"imagePullPolicy tagged", s.Containers[1].ImagePullPolicy, corev1.PullIfNotPresent},
		{"imagePullPolicy registry port, no tag", s.Containers[2].ImagePullPolicy, corev1.PullAlways},
		{"imagePullPolicy digest", s.Containers[3].ImagePullPolicy, corev1.PullIfNotPresent},
		{"imagePullPolicy latest", s.Containers[4].ImagePullPolicy, corev1.PullAlways},
		{"volume without source is emptyDir", s.Volumes[0].EmptyDir != nil, true},
		{"terminationMessagePath", s.Containers[0].TerminationMessagePath, "/dev/termination-log"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("SetDefaults: %s = %v, want %v", c.what, c.got, c.want)
		}
	}
}
