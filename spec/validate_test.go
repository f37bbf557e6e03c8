package spec

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// allLSMs is a node where SELinux and AppArmor are both active.
var allLSMs = ValidateOptions{SELinuxEnabled: true, AppArmorEnabled: true}

func valPtr[T any](v T) *T { return &v }

// validPod returns a pod that uses most of what podsec validates and has
// no problem on a node with allLSMs. Each test case breaks one thing.
func validPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "web-1",
			Namespace:   "default",
			Labels:      map[string]string{"app": "web"},
			Annotations: map[string]string{corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "app": "runtime/default"},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyAlways,
			DNSPolicy:                     corev1.DNSClusterFirst,
			TerminationGracePeriodSeconds: valPtr(int64(30)),
			Hostname:                      "web",
			HostUsers:                     valPtr(false),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsUser:           valPtr(int64(1000)),
				RunAsGroup:          valPtr(int64(1000)),
				RunAsNonRoot:        valPtr(true),
				FSGroup:             valPtr(int64(2000)),
				SupplementalGroups:  []int64{3000, 0},
				FSGroupChangePolicy: valPtr(corev1.FSGroupChangeOnRootMismatch),
				SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
				AppArmorProfile:     &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault},
				SELinuxOptions:      &corev1.SELinuxOptions{Level: "s0:c1,c2"},
				Sysctls: []corev1.Sysctl{
					{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"},
					{Name: "kernel/shm_rmid_forced", Value: "1"},
					{Name: "fs.mqueue.msg_max", Value: "20"},
					{Name: "kernel.sem", Value: "250 32000 32 128"},
				},
			},
			Volumes: []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
					Medium: corev1.StorageMediumMemory, SizeLimit: valPtr(resource.MustParse("64Mi")),
				}}},
				{Name: "config", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
					Path: "/etc/web", Type: valPtr(corev1.HostPathDirectory),
				}}},
			},
			InitContainers: []corev1.Container{{
				Name:         "setup",
				Image:        "busybox:1.36",
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: valPtr(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
			Containers: []corev1.Container{{
				Name:            "app",
				Image:           "nginx:1.27",
				ImagePullPolicy: corev1.PullIfNotPresent,
				Ports: []corev1.ContainerPort{
					{Name: "http", ContainerPort: 8080, HostPort: 8080, Protocol: corev1.ProtocolTCP},
					{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolUDP, HostIP: "127.0.0.1", HostPort: 9090},
				},
				Env: []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "data", MountPath: "/data", MountPropagation: valPtr(corev1.MountPropagationNone)},
					{Name: "config", MountPath: "/etc/nginx/conf.d", ReadOnly: true, SubPath: "conf.d", RecursiveReadOnly: valPtr(corev1.RecursiveReadOnlyIfPossible)},
				},
				SecurityContext: &corev1.SecurityContext{
					RunAsUser:                valPtr(int64(1001)),
					AllowPrivilegeEscalation: valPtr(false),
					ReadOnlyRootFilesystem:   valPtr(true),
					Capabilities: &corev1.Capabilities{
						Drop: []corev1.Capability{"ALL"},
						Add:  []corev1.Capability{"NET_BIND_SERVICE", "cap_chown"},
					},
					ProcMount:      valPtr(corev1.UnmaskedProcMount),
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: valPtr("profiles/web.json")},
					AppArmorProfile: &corev1.AppArmorProfile{
						Type: corev1.AppArmorProfileTypeRuntimeDefault,
					},
					SELinuxOptions: &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1,c2"},
				},
			}},
		},
	}
}

// app returns the first app container of p, with a securityContext.
func app(p *corev1.Pod) *corev1.Container {
	c := &p.Spec.Containers[0]
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c
}

// wantErr is an expected error of ValidatePod: its field path and type.
type wantErr struct {
	field string
	typ   field.ErrorType
}

func (w wantErr) String() string { return w.field + ": " + w.typ.String() }

// validateCase is a change to validPod and the errors it must cause.
type validateCase struct {
	name   string
	opts   *ValidateOptions // nil means allLSMs
	mutate func(p *corev1.Pod)
	want   []wantErr
}

// runValidateCases checks that each case gives exactly its errors, as a
// set of (field, type), since the rules promise every error, not an order.
func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := validPod()
			if tc.mutate != nil {
				tc.mutate(pod)
			}
			opts := allLSMs
			if tc.opts != nil {
				opts = *tc.opts
			}
			errs := ValidatePod(pod, opts)
			got := make([]string, len(errs))
			for i, e := range errs {
				got[i] = wantErr{e.Field, e.Type}.String()
			}
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = w.String()
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("ValidatePod(%s) errors:\n  %s\nwant:\n  %s\nfull errors:\n%s", tc.name,
					strings.Join(got, "\n  "), strings.Join(want, "\n  "), describe(errs))
			}
		})
	}
}

func describe(errs field.ErrorList) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  %s\n", e.Error())
	}
	return b.String()
}

func TestValidatePodValid(t *testing.T) {
	if errs := ValidatePod(validPod(), allLSMs); len(errs) != 0 {
		t.Errorf("ValidatePod(validPod) = %d errors, want none:\n%s", len(errs), describe(errs))
	}
	minimal := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "a"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "a"}}},
	}
	if errs := ValidatePod(minimal, ValidateOptions{}); len(errs) != 0 {
		t.Errorf("ValidatePod(minimal, no LSM) = %d errors, want none:\n%s", len(errs), describe(errs))
	}
	if errs := ValidatePod(nil, allLSMs); len(errs) != 1 {
		t.Errorf("ValidatePod(nil) = %v, want one error", errs)
	}
}

// TestValidatePodAllErrors checks that ValidatePod reports every problem of
// a pod at once, from every group of rules.
func TestValidatePodAllErrors(t *testing.T) {
	runValidateCases(t, []validateCase{{
		name: "many problems",
		mutate: func(p *corev1.Pod) {
			p.Name = "Web_1"
			p.Spec.RestartPolicy = "Sometimes"
			p.Spec.SecurityContext.RunAsUser = valPtr(int64(-1))
			p.Spec.SecurityContext.Sysctls[0].Name = "vm.swappiness"
			p.Spec.Volumes[1].HostPath.Path = "etc/web"
			p.Spec.InitContainers[0].Image = ""
			c := app(p)
			c.Ports[0].ContainerPort = 70000
			c.SecurityContext.Capabilities.Add[1] = "CAP_FLY"
			c.SecurityContext.Privileged = valPtr(true)
			c.VolumeMounts[0].Name = "nope"
		},
		want: []wantErr{
			{"metadata.name", field.ErrorTypeInvalid},
			{"spec.restartPolicy", field.ErrorTypeNotSupported},
			{"spec.securityContext.runAsUser", field.ErrorTypeInvalid},
			{"spec.securityContext.sysctls[0].name", field.ErrorTypeForbidden},
			{"spec.volumes[1].hostPath.path", field.ErrorTypeInvalid},
			{"spec.initContainers[0].image", field.ErrorTypeRequired},
			{"spec.containers[0].ports[0].containerPort", field.ErrorTypeInvalid},
			{"spec.containers[0].securityContext.capabilities.add[1]", field.ErrorTypeInvalid},
			{"spec.containers[0].securityContext.allowPrivilegeEscalation", field.ErrorTypeInvalid},
			{"spec.containers[0].volumeMounts[0].name", field.ErrorTypeNotFound},
		},
	}})
}

func TestValidatePodMetadata(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"no name", nil, func(p *corev1.Pod) { p.Name = "" }, []wantErr{{"metadata.name", field.ErrorTypeRequired}}},
		{"subdomain name", nil, func(p *corev1.Pod) { p.Name = "web.example.com" }, nil},
		{"name too long", nil, func(p *corev1.Pod) { p.Name = strings.Repeat("a", 254) }, []wantErr{{"metadata.name", field.ErrorTypeInvalid}}},
		{"uppercase name", nil, func(p *corev1.Pod) { p.Name = "Web" }, []wantErr{{"metadata.name", field.ErrorTypeInvalid}}},
		{"empty namespace", nil, func(p *corev1.Pod) { p.Namespace = "" }, nil},
		{"dotted namespace", nil, func(p *corev1.Pod) { p.Namespace = "a.b" }, []wantErr{{"metadata.namespace", field.ErrorTypeInvalid}}},
		{"bad label value", nil, func(p *corev1.Pod) { p.Labels["app"] = "-x-" }, []wantErr{{"metadata.labels", field.ErrorTypeInvalid}}},
		{"bad annotation key", nil, func(p *corev1.Pod) { p.Annotations["a b"] = "" }, []wantErr{{"metadata.annotations", field.ErrorTypeInvalid}}},
	})
}

func TestValidatePodSpecFields(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"restartPolicy", nil, func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }, []wantErr{{"spec.restartPolicy", field.ErrorTypeNotSupported}}},
		{"restartPolicy empty is default", nil, func(p *corev1.Pod) { p.Spec.RestartPolicy = "" }, nil},
		{"restartPolicy OnFailure", nil, func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }, nil},
		{"dnsPolicy", nil, func(p *corev1.Pod) { p.Spec.DNSPolicy = "Cluster" }, []wantErr{{"spec.dnsPolicy", field.ErrorTypeNotSupported}}},
		{"dnsPolicy None without nameservers", nil, func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone }, []wantErr{{"spec.dnsConfig.nameservers", field.ErrorTypeRequired}}},
		{"dnsPolicy None", nil, func(p *corev1.Pod) {
			p.Spec.DNSPolicy = corev1.DNSNone
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"10.0.0.10"}}
		}, nil},
		{"dnsConfig", nil, func(p *corev1.Pod) {
			p.Spec.DNSConfig = &corev1.PodDNSConfig{
				Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9", "dns"},
				Options:     []corev1.PodDNSConfigOption{{Name: ""}},
			}
		}, []wantErr{
			{"spec.dnsConfig.nameservers", field.ErrorTypeInvalid},
			{"spec.dnsConfig.nameservers[3]", field.ErrorTypeInvalid},
			{"spec.dnsConfig.options[0].name", field.ErrorTypeRequired},
		}},
		{"negative grace period", nil, func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = valPtr(int64(-1)) }, []wantErr{{"spec.terminationGracePeriodSeconds", field.ErrorTypeInvalid}}},
		{"zero grace period", nil, func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = valPtr(int64(0)) }, nil},
		{"activeDeadlineSeconds", nil, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = valPtr(int64(0)) }, []wantErr{{"spec.activeDeadlineSeconds", field.ErrorTypeInvalid}}},
		{"hostname", nil, func(p *corev1.Pod) { p.Spec.Hostname = "web.local" }, []wantErr{{"spec.hostname", field.ErrorTypeInvalid}}},
		{"subdomain", nil, func(p *corev1.Pod) { p.Spec.Subdomain = "Web" }, []wantErr{{"spec.subdomain", field.ErrorTypeInvalid}}},
		{"os linux", nil, func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: corev1.Linux} }, nil},
		{"os windows", nil, func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: corev1.Windows} }, []wantErr{{"spec.os.name", field.ErrorTypeForbidden}}},
		{"os plan9", nil, func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: "plan9"} }, []wantErr{{"spec.os.name", field.ErrorTypeNotSupported}}},
		{"user namespace with host namespaces", nil, func(p *corev1.Pod) {
			p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true
			app(p).SecurityContext.ProcMount = nil
			p.Spec.SecurityContext.Sysctls = nil
			p.Spec.Containers[0].Ports = nil
		}, []wantErr{
			{"spec.hostNetwork", field.ErrorTypeForbidden},
			{"spec.HostPID", field.ErrorTypeForbidden},
			{"spec.HostIPC", field.ErrorTypeForbidden},
		}},
		{"shareProcessNamespace with hostPID", nil, func(p *corev1.Pod) {
			p.Spec.HostUsers = nil
			app(p).SecurityContext.ProcMount = nil
			p.Spec.HostPID = true
			p.Spec.ShareProcessNamespace = valPtr(true)
		}, []wantErr{{"spec.shareProcessNamespace", field.ErrorTypeInvalid}}},
		{"ephemeral containers", nil, func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}, []wantErr{{"spec.ephemeralContainers", field.ErrorTypeForbidden}}},
	})
}

// TestValidatePodMessages checks the text of the errors whose wording the
// brief or Kubernetes fixes.
func TestValidatePodMessages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   ValidateOptions
		mutate func(p *corev1.Pod)
		want   string
	}{
		{"hostNetwork", allLSMs, func(p *corev1.Pod) {
			p.Spec.HostUsers = nil
			app(p).SecurityContext.ProcMount = nil
			p.Spec.SecurityContext.Sysctls = nil
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 9000}}
		}, "spec.containers[0].ports[0].hostPort: Invalid value: 9000: must match containerPort when hostNetwork is true"},
		{"runAsUser", allLSMs, func(p *corev1.Pod) { app(p).SecurityContext.RunAsUser = valPtr(int64(-1)) },
			"spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"},
		{"privileged", allLSMs, func(p *corev1.Pod) { app(p).SecurityContext.Privileged = valPtr(true) },
			"spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid value: false: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"},
		{"sys_admin", allLSMs, func(p *corev1.Pod) { app(p).SecurityContext.Capabilities.Add = []corev1.Capability{"sys_admin"} },
			"spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid value: false: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"},
		{"persistentVolumeClaim", allLSMs, func(p *corev1.Pod) {
			p.Spec.Volumes[1].VolumeSource = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}
		}, "spec.volumes[1].persistentVolumeClaim: Forbidden: volume type not supported by podsec; supported: emptyDir, hostPath, configMap, secret, downwardAPI"},
		{"mount not found", allLSMs, func(p *corev1.Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "x" },
			`spec.containers[0].volumeMounts[0].name: Not found: "x"`},
		{"no SELinux", ValidateOptions{AppArmorEnabled: true}, func(p *corev1.Pod) { app(p).SecurityContext.SELinuxOptions = nil },
			"spec.securityContext.seLinuxOptions: Forbidden: cannot be enforced: no SELinux LSM is active on this node"},
		{"procMount", allLSMs, func(p *corev1.Pod) { p.Spec.HostUsers = nil },
			"spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` must be false to use `Unmasked`"},
		{"net sysctl", allLSMs, func(p *corev1.Pod) {
			p.Spec.HostUsers = nil
			app(p).SecurityContext.ProcMount = nil
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = nil
			p.Spec.SecurityContext.Sysctls = p.Spec.SecurityContext.Sysctls[:1]
		}, "spec.securityContext.sysctls[0].name: Forbidden: may not be specified when 'hostNetwork' is true"},
	} {
		pod := validPod()
		tc.mutate(pod)
		errs := ValidatePod(pod, tc.opts)
		if len(errs) != 1 || errs[0].Error() != tc.want {
			t.Errorf("ValidatePod(%s) =\n%swant exactly:\n  %s", tc.name, describe(errs), tc.want)
		}
	}
}
