package netpol

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Pod is a pod as the engine sees it: where it lives, its labels, its
// address and the named ports its containers declare.
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	// IP is the pod's address; the zero Addr means the pod has none yet
	// (not running): it is selected by policies but is no traffic's peer.
	IP netip.Addr
	// HostNetwork pods share the node's network: no policy isolates them
	// and, as peers, they are the node (selectors never match them).
	HostNetwork bool
	// Ports are the containerPorts of the pod's containers (and of its
	// restartable init containers), which named ports resolve to.
	Ports []ContainerPort
}

// ContainerPort is one containerPort of a pod.
type ContainerPort struct {
	Name     string
	Protocol corev1.Protocol // TCP when empty
	Port     int32
}

// Key is the pod's "namespace/name".
func (p *Pod) Key() string { return p.Namespace + "/" + p.Name }

// isolatable reports whether policies can select the pod: it has its own
// network.
func (p *Pod) isolatable() bool { return p != nil && !p.HostNetwork }

// namedPort finds the port number a named port resolves to on the pod for
// a protocol.
func (p *Pod) namedPort(name string, proto corev1.Protocol) (int32, bool) {
	if !p.isolatable() {
		return 0, false
	}
	for _, cp := range p.Ports {
		if cp.Name == name && protocolOf(cp.Protocol) == proto {
			return cp.Port, true
		}
	}
	return 0, false
}

// PodFromAPI is the engine's view of a pod object, with the address the
// pod network gave it (the zero Addr if none). A pod without a namespace is
// in "default".
func PodFromAPI(pod *corev1.Pod, ip netip.Addr) Pod {
	p := Pod{
		Namespace:   pod.Namespace,
		Name:        pod.Name,
		Labels:      pod.Labels,
		IP:          ip,
		HostNetwork: pod.Spec.HostNetwork,
	}
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	add := func(cs []corev1.Container) {
		for _, c := range cs {
			for _, cp := range c.Ports {
				p.Ports = append(p.Ports, ContainerPort{Name: cp.Name, Protocol: protocolOf(cp.Protocol), Port: cp.ContainerPort})
			}
		}
	}
	add(pod.Spec.Containers)
	for _, c := range pod.Spec.InitContainers {
		// Sidecars (restartable init containers) serve for the pod's life.
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add([]corev1.Container{c})
		}
	}
	return p
}

// Namespace is a namespace's name and labels. The engine adds the label
// kubernetes.io/metadata.name itself, as the API server does.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Endpoint is one end of a connection: a pod, the node, or an address
// that is neither.
type Endpoint struct {
	// Pod is the pod at this end; nil for the node and for other
	// addresses.
	Pod *Pod
	// IP is the address of this end. For a pod it is the pod's IP.
	IP netip.Addr
	// Node marks the node itself (its own addresses, and hostNetwork pods).
	Node bool
}

// PodEndpoint is the endpoint of a pod; a hostNetwork pod is the node.
func PodEndpoint(p *Pod) Endpoint {
	return Endpoint{Pod: p, IP: p.IP, Node: p.HostNetwork}
}

// AddrEndpoint is an address that is no pod's and not the node's.
func AddrEndpoint(ip netip.Addr) Endpoint { return Endpoint{IP: ip} }

// NodeEndpoint is the node, reached at or coming from ip (may be zero).
func NodeEndpoint(ip netip.Addr) Endpoint { return Endpoint{IP: ip, Node: true} }

// pod is the endpoint's pod if policies may select it.
func (e Endpoint) pod() *Pod {
	if e.Node || !e.Pod.isolatable() {
		return nil
	}
	return e.Pod
}

// String names the endpoint as explain prints it.
func (e Endpoint) String() string {
	switch {
	case e.Pod != nil && e.Pod.HostNetwork:
		return e.Pod.Key() + " (hostNetwork: the node)"
	case e.Pod != nil:
		return e.Pod.Key()
	case e.Node && e.IP.IsValid():
		return "node " + e.IP.String()
	case e.Node:
		return "node"
	default:
		return e.IP.String()
	}
}

func protocolOf(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return corev1.Protocol(strings.ToUpper(string(p)))
}

// protoNumber is the IP protocol number of a NetworkPolicy protocol.
func protoNumber(p corev1.Protocol) uint8 {
	switch protocolOf(p) {
	case corev1.ProtocolUDP:
		return 17
	case corev1.ProtocolSCTP:
		return 132
	default:
		return 6
	}
}

// sortPods orders pods by Key, without building the keys.
func sortPods(pods []*Pod) {
	slices.SortFunc(pods, compareKeys)
}

// compareKeys compares the pods' Keys ("namespace/name").
func compareKeys(a, b *Pod) int {
	if a.Namespace == b.Namespace {
		return strings.Compare(a.Name, b.Name)
	}
	x, y := a.Namespace, b.Namespace
	n := min(len(x), len(y))
	if c := strings.Compare(x[:n], y[:n]); c != 0 {
		return c
	}
	// One namespace starts the other: "/" follows the shorter.
	if len(x) < len(y) {
		return cmp.Compare('/', y[n])
	}
	return cmp.Compare(x[n], '/')
}
