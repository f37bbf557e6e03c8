package pipeline

import (
	"fmt"

	"github.com/podsec/podsec/spec"
)

// NodeFiles are what a pod's /etc files take from the node, read by the
// kernel side: only for a pod that shares the node's network (Hostname,
// Hosts) and for its resolver (ResolvConf).
type NodeFiles struct {
	// Hostname and Hosts are the node's host name and /etc/hosts, read
	// only when the sandbox makes no network namespace.
	Hostname string
	Hosts    []byte
	// ResolvConf is the node's /etc/resolv.conf; nil when it has none.
	ResolvConf []byte
}

// EtcFiles are a pod's /etc/hosts, /etc/hostname and /etc/resolv.conf,
// bound into every container, and the warnings of making resolv.conf.
type EtcFiles struct {
	Hosts, Hostname, ResolvConf []byte
	Warnings                    []string
}

// noNetworkIP is what the pod's name resolves to without a pod network: a
// loopback address of its own.
const noNetworkIP = "127.0.1.1"

// EtcFiles makes the pod's /etc files as the kubelet does: the pod's name
// resolves to podIP (empty without a pod network), a pod on the node's
// network gets the node's hosts file and name, hostAliases are appended,
// and resolv.conf follows dnsPolicy and dnsConfig (spec.ResolvConf).
func (p *Plan) EtcFiles(podIP string, node NodeFiles) EtcFiles {
	host := p.Sandbox.Hostname
	if podIP == "" {
		podIP = noNetworkIP
	}
	hosts := fmt.Sprintf("# Kubernetes-managed hosts file (podsec).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", podIP, host)
	if !p.Sandbox.Net {
		host, hosts = node.Hostname, string(node.Hosts)
	}
	for _, a := range p.Pod.Spec.HostAliases {
		for _, h := range a.Hostnames {
			hosts += fmt.Sprintf("%s\t%s\n", a.IP, h)
		}
	}
	resolv, warnings := spec.ResolvConf(p.Pod, node.ResolvConf)
	return EtcFiles{Hosts: []byte(hosts), Hostname: []byte(host + "\n"), ResolvConf: resolv, Warnings: warnings}
}
