package spec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestUserNSIDs: a pod with hostUsers: false may only use container IDs
// inside its range; the error names the field the ID came from.
func TestUserNSIDs(t *testing.T) {
	id := func(v int64) *int64 { return &v }
	f := false
	tests := []struct {
		name    string
		mut     func(*corev1.Pod)
		img     *ImageConfig
		wantErr string
	}{
		{name: "inside", mut: func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: id(65535), RunAsGroup: id(405), FSGroup: id(555), SupplementalGroups: []int64{666}}
		}},
		{name: "pod runAsUser", mut: func(p *corev1.Pod) { p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: id(65536)} },
			wantErr: "spec.securityContext.runAsUser: Invalid value: 65536: user ID 65536 is outside the pod's user namespace (spec.hostUsers: false gives container IDs 0-65535)"},
		{name: "container runAsGroup", mut: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsGroup: id(70000)}
		}, wantErr: "spec.containers[0].securityContext.runAsGroup: Invalid value: 70000"},
		{name: "fsGroup", mut: func(p *corev1.Pod) { p.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: id(100000)} },
			wantErr: "spec.securityContext.fsGroup: Invalid value: 100000"},
		{name: "supplementalGroups", mut: func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{SupplementalGroups: []int64{5, 1 << 20}}
		}, wantErr: "spec.securityContext.supplementalGroups[1]: Invalid value: 1048576"},
		{name: "image user", img: &ImageConfig{User: "90000:90000"}, wantErr: "spec.containers[0].image: Invalid value: 90000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := testPod(func(p *corev1.Pod) {
				p.Spec.HostUsers = &f
				if tc.mut != nil {
					tc.mut(p)
				}
			})
			in := Input{Pod: pod, ContainerName: "c", Image: tc.img, Options: Options{Seccomp: fakeSeccomp{}},
				Paths: Paths{UserNS: &IDRange{HostID: 65536, Size: 65536}, UserNSPath: "/ns/user"}}
			if tc.img != nil {
				in.Users = &UserDB{Passwd: []byte(testPasswd), Group: []byte(testGroup)}
			}
			_, err := Translate(in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Translate(%s) = %v, want no error", tc.name, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Translate(%s) = %v, want %q", tc.name, err, tc.wantErr)
			}
		})
	}
}
