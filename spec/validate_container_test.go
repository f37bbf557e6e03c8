package spec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidatePodContainers(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"no app container", nil, func(p *corev1.Pod) {
			p.Spec.Containers = nil
			delete(p.Annotations, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+"app")
		}, []wantErr{{"spec.containers", field.ErrorTypeRequired}}},
		{"no name", nil, func(p *corev1.Pod) { p.Spec.InitContainers[0].Name = "" }, []wantErr{{"spec.initContainers[0].name", field.ErrorTypeRequired}}},
		{"name not a label", nil, func(p *corev1.Pod) { p.Spec.InitContainers[0].Name = "set.up" }, []wantErr{{"spec.initContainers[0].name", field.ErrorTypeInvalid}}},
		{"init and app share a name", nil, func(p *corev1.Pod) { p.Spec.InitContainers[0].Name = "app" }, []wantErr{{"spec.initContainers[0].name", field.ErrorTypeDuplicate}}},
		{"two app containers share a name", nil, func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "app", Image: "x"})
		}, []wantErr{{"spec.containers[1].name", field.ErrorTypeDuplicate}}},
		{"two init containers share a name", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "setup", Image: "x"})
		}, []wantErr{{"spec.initContainers[1].name", field.ErrorTypeDuplicate}}},
		{"no image", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }, []wantErr{{"spec.containers[0].image", field.ErrorTypeRequired}}},
		{"padded image", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" }, []wantErr{{"spec.containers[0].image", field.ErrorTypeInvalid}}},
		{"imagePullPolicy", nil, func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" }, []wantErr{{"spec.containers[0].imagePullPolicy", field.ErrorTypeNotSupported}}},
		{"sidecar", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].RestartPolicy = valPtr(corev1.ContainerRestartPolicyAlways)
		}, nil},
		{"init restartPolicy Never", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].RestartPolicy = valPtr(corev1.ContainerRestartPolicyNever)
		}, []wantErr{{"spec.initContainers[0].restartPolicy", field.ErrorTypeNotSupported}}},
		{"app restartPolicy", nil, func(p *corev1.Pod) {
			p.Spec.Containers[0].RestartPolicy = valPtr(corev1.ContainerRestartPolicyAlways)
		}, []wantErr{{"spec.containers[0].restartPolicy", field.ErrorTypeForbidden}}},
		{"env name", nil, func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: ""}, {Name: "A=B"}, {Name: "1.relaxed-ok"}}
		}, []wantErr{
			{"spec.containers[0].env[0].name", field.ErrorTypeRequired},
			{"spec.containers[0].env[1].name", field.ErrorTypeInvalid},
		}},
		{"volumeDevices", nil, func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeDevices = []corev1.VolumeDevice{{Name: "data", DevicePath: "/dev/xvda"}}
		}, []wantErr{{"spec.containers[0].volumeDevices", field.ErrorTypeForbidden}}},
	})
}

func TestValidatePodPorts(t *testing.T) {
	port := func(i int, mutate func(*corev1.ContainerPort)) func(*corev1.Pod) {
		return func(p *corev1.Pod) { mutate(&p.Spec.Containers[0].Ports[i]) }
	}
	runValidateCases(t, []validateCase{
		{"no containerPort", nil, port(0, func(c *corev1.ContainerPort) { c.ContainerPort = 0 }), []wantErr{{"spec.containers[0].ports[0].containerPort", field.ErrorTypeRequired}}},
		{"containerPort too big", nil, port(0, func(c *corev1.ContainerPort) { c.ContainerPort = 65536 }), []wantErr{{"spec.containers[0].ports[0].containerPort", field.ErrorTypeInvalid}}},
		{"negative containerPort", nil, port(0, func(c *corev1.ContainerPort) { c.ContainerPort = -1 }), []wantErr{{"spec.containers[0].ports[0].containerPort", field.ErrorTypeInvalid}}},
		{"no hostPort", nil, port(0, func(c *corev1.ContainerPort) { c.HostPort = 0 }), nil},
		{"hostPort too big", nil, port(0, func(c *corev1.ContainerPort) { c.HostPort = 65536 }), []wantErr{{"spec.containers[0].ports[0].hostPort", field.ErrorTypeInvalid}}},
		{"hostPort in init container", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: -5}}
		}, []wantErr{{"spec.initContainers[0].ports[0].hostPort", field.ErrorTypeInvalid}}},
		{"protocol", nil, port(0, func(c *corev1.ContainerPort) { c.Protocol = "ICMP" }), []wantErr{{"spec.containers[0].ports[0].protocol", field.ErrorTypeNotSupported}}},
		{"protocol SCTP", nil, port(0, func(c *corev1.ContainerPort) { c.Protocol = corev1.ProtocolSCTP }), nil},
		{"protocol empty is TCP", nil, port(0, func(c *corev1.ContainerPort) { c.Protocol = "" }), nil},
		{"port name", nil, port(0, func(c *corev1.ContainerPort) { c.Name = "web_ui" }), []wantErr{{"spec.containers[0].ports[0].name", field.ErrorTypeInvalid}}},
		{"port name too long", nil, port(0, func(c *corev1.ContainerPort) { c.Name = "a-very-long-port-name" }), []wantErr{{"spec.containers[0].ports[0].name", field.ErrorTypeInvalid}}},
		{"duplicate port name", nil, port(1, func(c *corev1.ContainerPort) { c.Name = "http" }), []wantErr{{"spec.containers[0].ports[1].name", field.ErrorTypeDuplicate}}},
		{"hostIP", nil, port(1, func(c *corev1.ContainerPort) { c.HostIP = "localhost" }), []wantErr{{"spec.containers[0].ports[1].hostIP", field.ErrorTypeInvalid}}},
		{"same hostPort twice", nil, port(1, func(c *corev1.ContainerPort) { c.HostPort, c.Protocol, c.HostIP = 8080, corev1.ProtocolTCP, "" }),
			[]wantErr{{"spec.containers[0].ports[1].hostPort", field.ErrorTypeDuplicate}}},
		{"same hostPort other protocol", nil, port(1, func(c *corev1.ContainerPort) { c.HostPort, c.HostIP = 8080, "" }), nil},
		{"same hostPort in two app containers", nil, func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side", Image: "x",
				Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}})
		}, []wantErr{{"spec.containers[1].ports[0].hostPort", field.ErrorTypeDuplicate}}},
		{"init container may reuse an app hostPort", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}
		}, nil},
		{"hostNetwork hostPort differs", nil, func(p *corev1.Pod) {
			p.Spec.HostUsers = nil
			p.Spec.SecurityContext.Sysctls = nil
			app(p).SecurityContext.ProcMount = nil
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[1].HostPort = 9091
			p.Spec.InitContainers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}}
		}, []wantErr{
			{"spec.containers[0].ports[1].hostPort", field.ErrorTypeInvalid},
			{"spec.initContainers[0].ports[0].hostPort", field.ErrorTypeInvalid},
		}},
	})
}

func TestValidatePodResources(t *testing.T) {
	res := func(mutate func(r *corev1.ResourceRequirements)) func(*corev1.Pod) {
		return func(p *corev1.Pod) { mutate(&p.Spec.Containers[0].Resources) }
	}
	runValidateCases(t, []validateCase{
		{"negative limit", nil, res(func(r *corev1.ResourceRequirements) {
			r.Limits[corev1.ResourceMemory] = resource.MustParse("-1Mi")
			delete(r.Requests, corev1.ResourceMemory)
		}), []wantErr{{"spec.containers[0].resources.limits[memory]", field.ErrorTypeInvalid}}},
		{"negative request", nil, res(func(r *corev1.ResourceRequirements) {
			r.Requests[corev1.ResourceCPU] = resource.MustParse("-100m")
		}), []wantErr{{"spec.containers[0].resources.requests[cpu]", field.ErrorTypeInvalid}}},
		{"cpu request above limit", nil, res(func(r *corev1.ResourceRequirements) {
			r.Requests[corev1.ResourceCPU] = resource.MustParse("1")
		}), []wantErr{{"spec.containers[0].resources.requests[cpu]", field.ErrorTypeInvalid}}},
		{"memory request above limit", nil, res(func(r *corev1.ResourceRequirements) {
			r.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}), []wantErr{{"spec.containers[0].resources.requests[memory]", field.ErrorTypeInvalid}}},
		{"request without limit", nil, res(func(r *corev1.ResourceRequirements) {
			delete(r.Limits, corev1.ResourceMemory)
			r.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}), nil},
		{"init container", nil, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-1")}
		}, []wantErr{{"spec.initContainers[0].resources.requests[cpu]", field.ErrorTypeInvalid}}},
	})
}
