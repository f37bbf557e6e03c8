package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fakeSeccomp marks which profile the translation chose.
type fakeSeccomp struct{}

func (fakeSeccomp) RuntimeDefault(caps []string) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"runtime-default"}}}}
}

func (fakeSeccomp) Localhost(p string, caps []string) (*specs.LinuxSeccomp, error) {
	if p == "missing.json" {
		return nil, errors.New("no such profile")
	}
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"localhost:" + p}}}}, nil
}

const testPasswd = "root:x:0:0:root:/root:/bin/sh\nguest:x:405:100:guest:/dev/null:/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n"
const testGroup = "root:x:0:root\nusers:x:100:guest\nwheel:x:10:root,app\napp:x:1000:\n"

func testPod(mut func(*corev1.Pod)) *corev1.Pod {
	pod := &corev1.Pod{}
	pod.Name = "p"
	pod.Spec.Containers = []corev1.Container{{Name: "c", Image: "img", Command: []string{"/bin/true"}}}
	if mut != nil {
		mut(pod)
	}
	SetDefaults(pod)
	return pod
}

func translate(t *testing.T, pod *corev1.Pod, img *ImageConfig) (*specs.Spec, error) {
	t.Helper()
	in := Input{Pod: pod, ContainerName: pod.Spec.Containers[0].Name, Image: img, Options: Options{Seccomp: fakeSeccomp{}}}
	if img != nil {
		in.Users = &UserDB{Passwd: []byte(testPasswd), Group: []byte(testGroup)}
	}
	return Translate(in)
}

func sc(mut func(*corev1.SecurityContext)) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{}
		mut(p.Spec.Containers[0].SecurityContext)
	}
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		name      string
		add, drop []corev1.Capability
		priv      bool
		want      []string
	}{
		{name: "default", want: DefaultCapabilities},
		{name: "add in any spelling", add: []corev1.Capability{"sys_time", "CAP_NET_ADMIN"}, want: sortedUnique(append([]string{"CAP_SYS_TIME", "CAP_NET_ADMIN"}, DefaultCapabilities...))},
		{name: "drop ALL add one", drop: []corev1.Capability{"ALL"}, add: []corev1.Capability{"NET_BIND_SERVICE"}, want: []string{"CAP_NET_BIND_SERVICE"}},
		{name: "drop all lower case", drop: []corev1.Capability{"all"}, want: []string{}},
		{name: "add ALL drop one", add: []corev1.Capability{"ALL"}, drop: []corev1.Capability{"CHOWN"}, want: without(allCapabilities, "CAP_CHOWN")},
		{name: "added and dropped ends dropped", add: []corev1.Capability{"SYS_TIME"}, drop: []corev1.Capability{"SYS_TIME"}, want: DefaultCapabilities},
		{name: "privileged ignores drop", priv: true, drop: []corev1.Capability{"ALL"}, want: sortedUnique(allCapabilities)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := testPod(sc(func(s *corev1.SecurityContext) {
				s.Capabilities = &corev1.Capabilities{Add: tc.add, Drop: tc.drop}
				s.Privileged = &tc.priv
			}))
			s, err := translate(t, pod, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := s.Process.Capabilities
			want := sortedUnique(tc.want)
			for set, got := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted} {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Translate(%s).%s = %v, want %v", tc.name, set, got, want)
				}
			}
			if len(c.Inheritable) != 0 || len(c.Ambient) != 0 || c.Inheritable == nil || c.Ambient == nil {
				t.Errorf("Translate(%s): inheritable %v, ambient %v, want both empty and set", tc.name, c.Inheritable, c.Ambient)
			}
		})
	}
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func TestIdentity(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name    string
		pod     func(*corev1.Pod)
		img     *ImageConfig
		want    specs.User
		wantErr string
	}{
		{name: "no image, no user: root", want: specs.User{AdditionalGids: []uint32{0}}},
		{name: "runAsUser not in passwd gets gid 0", pod: sc(func(s *corev1.SecurityContext) { s.RunAsUser = i64(1111) }), img: &ImageConfig{},
			want: specs.User{UID: 1111, AdditionalGids: []uint32{0}}},
		{name: "runAsUser in passwd gets its gid and groups", pod: sc(func(s *corev1.SecurityContext) { s.RunAsUser = i64(1000) }), img: &ImageConfig{},
			want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 1000}}},
		{name: "container overrides pod", pod: func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: i64(5), RunAsGroup: i64(6)}
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: i64(405)}
		}, img: &ImageConfig{}, want: specs.User{UID: 405, GID: 6, AdditionalGids: []uint32{6, 100}}},
		{name: "image named user", img: &ImageConfig{User: "guest"}, want: specs.User{UID: 405, GID: 100, AdditionalGids: []uint32{100}}},
		{name: "image user:group", img: &ImageConfig{User: "app:users"}, want: specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{10, 100}}},
		{name: "runAsGroup alone pairs with the image user", pod: sc(func(s *corev1.SecurityContext) { s.RunAsGroup = i64(3000) }), img: &ImageConfig{User: "guest"},
			want: specs.User{UID: 405, GID: 3000, AdditionalGids: []uint32{100, 3000}}},
		{name: "fsGroup and supplementalGroups sorted unique", pod: func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: i64(1111), FSGroup: i64(555), SupplementalGroups: []int64{777, 666, 555}}
		}, img: &ImageConfig{}, want: specs.User{UID: 1111, AdditionalGids: []uint32{0, 555, 666, 777}}},
		{name: "Strict drops the image's groups", pod: func(p *corev1.Pod) {
			strict := corev1.SupplementalGroupsPolicyStrict
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: i64(1000), SupplementalGroupsPolicy: &strict}
		}, img: &ImageConfig{}, want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000}}},
		{name: "unknown image user", img: &ImageConfig{User: "nosuch"}, wantErr: "spec.containers[0].image: Invalid value: \"nosuch\""},
		{name: "named user without passwd", img: nil, pod: func(p *corev1.Pod) {}, want: specs.User{AdditionalGids: []uint32{0}}},
		{name: "runAsNonRoot with root image", pod: sc(func(s *corev1.SecurityContext) { b := true; s.RunAsNonRoot = &b }), img: &ImageConfig{},
			wantErr: "container has runAsNonRoot and image will run as root"},
		{name: "runAsNonRoot with named image user", pod: sc(func(s *corev1.SecurityContext) { b := true; s.RunAsNonRoot = &b }), img: &ImageConfig{User: "guest"},
			wantErr: "image has non-numeric user (guest), cannot verify user is non-root"},
		{name: "runAsNonRoot with runAsUser 0", pod: sc(func(s *corev1.SecurityContext) { b := true; s.RunAsNonRoot = &b; s.RunAsUser = i64(0) }), img: &ImageConfig{User: "1000"},
			wantErr: "container's runAsUser breaks non-root policy"},
		{name: "runAsNonRoot from the pod with numeric image user", pod: func(p *corev1.Pod) {
			b := true
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: &b}
		}, img: &ImageConfig{User: "1000"}, want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 1000}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := translate(t, testPod(tc.pod), tc.img)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Translate(%s) error = %v, want %q", tc.name, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Translate(%s) = %v", tc.name, err)
			}
			if !reflect.DeepEqual(s.Process.User, tc.want) {
				t.Errorf("Translate(%s).process.user = %+v, want %+v", tc.name, s.Process.User, tc.want)
			}
		})
	}
}

func TestProcess(t *testing.T) {
	img := &ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"cmd"}, Env: []string{"PATH=/img", "A=image"}, WorkingDir: "/work"}
	tests := []struct {
		name     string
		command  []string
		args     []string
		env      []corev1.EnvVar
		wantArgs []string
		wantEnv  []string
	}{
		{name: "image entrypoint and cmd", wantArgs: []string{"/entry", "cmd"}},
		{name: "args replace cmd", args: []string{"x"}, wantArgs: []string{"/entry", "x"}},
		{name: "command drops image cmd", command: []string{"/bin/sh"}, wantArgs: []string{"/bin/sh"}},
		{name: "command and args", command: []string{"/bin/sh"}, args: []string{"-c", "$(A) $$(A) $(B)"},
			env: []corev1.EnvVar{{Name: "A", Value: "pod"}}, wantArgs: []string{"/bin/sh", "-c", "pod $(A) $(B)"},
			wantEnv: []string{"PATH=/img", "HOSTNAME=p", "A=pod"}},
		{name: "env expands earlier values only", command: []string{"x"},
			env:      []corev1.EnvVar{{Name: "X", Value: "$(Y)"}, {Name: "Y", Value: "y"}, {Name: "Z", Value: "$(Y)-$(X)"}},
			wantArgs: []string{"x"}, wantEnv: []string{"PATH=/img", "HOSTNAME=p", "A=image", "X=$(Y)", "Y=y", "Z=y-$(Y)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := testPod(func(p *corev1.Pod) {
				p.Spec.Containers[0].Command, p.Spec.Containers[0].Args, p.Spec.Containers[0].Env = tc.command, tc.args, tc.env
			})
			s, err := translate(t, pod, img)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Process.Args, tc.wantArgs) {
				t.Errorf("Translate(%s).args = %q, want %q", tc.name, s.Process.Args, tc.wantArgs)
			}
			if tc.wantEnv != nil && !reflect.DeepEqual(s.Process.Env, tc.wantEnv) {
				t.Errorf("Translate(%s).env = %q, want %q", tc.name, s.Process.Env, tc.wantEnv)
			}
			if s.Process.Cwd != "/work" || s.Process.Terminal {
				t.Errorf("Translate(%s): cwd %q terminal %v, want /work false", tc.name, s.Process.Cwd, s.Process.Terminal)
			}
		})
	}
}

func TestNoCommand(t *testing.T) {
	pod := testPod(func(p *corev1.Pod) { p.Spec.Containers[0].Command = nil })
	_, err := translate(t, pod, &ImageConfig{})
	var fe *field.Error
	if !errors.As(err, &fe) || fe.Field != "spec.containers[0].command" {
		t.Fatalf("Translate(no command) = %v, want a field error at spec.containers[0].command", err)
	}
}
