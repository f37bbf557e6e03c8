package runtime

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/spec"
)

// podShmSize is the size of a pod's /dev/shm, as containerd makes it.
const podShmSize = 64 << 20

// writeFiles makes the pod's /etc/hosts, /etc/hostname, /etc/resolv.conf
// and /dev/shm. The networking issue adds the pod's IP and DNS policies.
func (p *Pod) writeFiles() error {
	pod := p.pod
	etc := filepath.Join(p.dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return fmt.Errorf("creating pod files: %w", err)
	}
	host := p.plan.Sandbox.Hostname
	// As the kubelet does, the pod's name resolves to its IP; without a
	// pod network, to a loopback address of its own.
	ip := "127.0.1.1"
	if p.att != nil {
		ip = p.att.IP.String()
	}
	hosts := fmt.Sprintf("# Kubernetes-managed hosts file (podsec).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", ip, host)
	if !p.plan.Sandbox.Net {
		host, _ = os.Hostname()
		b, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return fmt.Errorf("reading the node's /etc/hosts: %w", err)
		}
		hosts = string(b)
	}
	for _, a := range pod.Spec.HostAliases {
		for _, h := range a.Hostnames {
			hosts += fmt.Sprintf("%s\t%s\n", a.IP, h)
		}
	}
	node, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reading the node's /etc/resolv.conf: %w", err)
	}
	resolv, warnings := spec.ResolvConf(pod, node)
	for _, w := range warnings {
		p.rt.event(pod, "DNSConfigForming", "%s", w)
	}
	for name, content := range map[string][]byte{
		"hosts":       []byte(hosts),
		"hostname":    []byte(host + "\n"),
		"resolv.conf": resolv,
	} {
		path := filepath.Join(etc, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return fmt.Errorf("writing pod file %s: %w", name, err)
		}
		p.files[name] = path
	}
	if p.plan.Sandbox.IPC {
		shm := p.rt.layout.Shm(pod.Namespace, pod.Name)
		if err := os.Mkdir(shm, 0o755); err != nil {
			return fmt.Errorf("creating pod shm: %w", err)
		}
		if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, fmt.Sprintf("mode=1777,size=%d", podShmSize)); err != nil {
			os.Remove(shm)
			return fmt.Errorf("mounting pod shm: %w", err)
		}
		p.shm = shm
	}
	return nil
}
