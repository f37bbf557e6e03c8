package runtime

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/podsec/podsec/pipeline"
)

// podShmSize is the size of a pod's /dev/shm, as containerd makes it.
const podShmSize = 64 << 20

// writeFiles writes the pod's /etc/hosts, /etc/hostname and
// /etc/resolv.conf as its plan makes them (pipeline.Plan.EtcFiles) and
// mounts its /dev/shm.
func (p *Pod) writeFiles() error {
	pod := p.pod
	etc := filepath.Join(p.dir, "etc")
	// The pod's root may write these files and chmod them: no other user
	// of the node may walk to them, or a setuid copy of the pod's would be
	// theirs to run. In a user namespace they are the pod root's (its
	// range's first ID) and only the pod's root group walks to them, as
	// libcontainer binds them from inside the namespace.
	owner, dirGID, dirMode := -1, 0, os.FileMode(0o700)
	if r := p.plan.UserNS; r != nil {
		owner, dirGID, dirMode = int(r.HostID), int(r.HostID), 0o710
	}
	if err := os.MkdirAll(etc, dirMode); err != nil {
		return fmt.Errorf("creating pod files: %w", err)
	}
	if err := os.Chown(etc, 0, dirGID); err != nil {
		return fmt.Errorf("creating pod files: %w", err)
	}
	if err := os.Chmod(etc, dirMode); err != nil {
		return fmt.Errorf("creating pod files: %w", err)
	}
	// The files are the plan's; only the node's own files are read here.
	var nf pipeline.NodeFiles
	ip := ""
	if p.att != nil {
		ip = p.att.IP.String()
	}
	if !p.plan.Sandbox.Net {
		nf.Hostname, _ = os.Hostname()
		b, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return fmt.Errorf("reading the node's /etc/hosts: %w", err)
		}
		nf.Hosts = b
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reading the node's /etc/resolv.conf: %w", err)
	}
	nf.ResolvConf = resolv
	ef := p.plan.EtcFiles(ip, nf)
	for _, w := range ef.Warnings {
		p.rt.event(pod, "DNSConfigForming", "%s", w)
	}
	for name, content := range map[string][]byte{
		"hosts":       ef.Hosts,
		"hostname":    ef.Hostname,
		"resolv.conf": ef.ResolvConf,
	} {
		path := filepath.Join(etc, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return fmt.Errorf("writing pod file %s: %w", name, err)
		}
		if err := os.Lchown(path, owner, owner); err != nil {
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
