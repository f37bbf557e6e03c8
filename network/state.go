package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/podsec/podsec/internal/atomicfile"
)

// nodeLockPath is shared by every podsec process of the node, whatever its
// state directory. CNI ADD, DEL and the removal of CNI's shared iptables
// chains hold it exclusively: the plugins create and fill the node-wide
// chains (CNI-HOSTPORT-DNAT, CNI-FORWARD) without a lock of their own, and
// two at once fail ("chain CNI-HOSTPORT-DNAT: File exists") or add a jump
// twice.
const nodeLockPath = "/run/podsec/network.lock"

// Attachment is a pod's recorded network attachment.
type Attachment struct {
	Pod PodRef `json:"pod"`
	// ContainerID is the CNI container ID, random per attachment.
	ContainerID string `json:"containerID"`
	// NetNS is the path of the pod's network namespace.
	NetNS string `json:"netns"`
	// Network is the CNI network's name; IfName the pod's interface.
	Network string `json:"network"`
	IfName  string `json:"ifName"`
	// IP is the pod's IPv4 address, Gateway its default gateway, Subnet
	// the prefix length the pod sees; all unset while Pending.
	IP      net.IP `json:"ip,omitempty"`
	Gateway net.IP `json:"gateway,omitempty"`
	Subnet  string `json:"subnet,omitempty"`
	// HostIf is the node's end of the pod's veth, and MAC the pod's own
	// MAC address: the guard table holds frames from HostIf to MAC and IP.
	HostIf string `json:"hostIf,omitempty"`
	MAC    string `json:"mac,omitempty"`
	// Ports are the pod's hostPort mappings, reserved for it on the node.
	Ports []PortMapping `json:"ports,omitempty"`
	// Pending is true from the reservation of the ports until CNI ADD has
	// succeeded: a pending record found later belongs to a setup that was
	// interrupted and must be torn down.
	Pending bool      `json:"pending,omitempty"`
	Created time.Time `json:"created"`
	// InProcess is true when podsec attached the pod itself (the default
	// network, BackendInProcess) rather than through CNI plugins; a
	// record without it is torn down by CNI DEL, whatever the Manager's
	// backend. Masquerade tells whether its traffic leaving the subnet is
	// masqueraded (the conflist's ipMasq).
	InProcess  bool `json:"inProcess,omitempty"`
	Masquerade bool `json:"masquerade,omitempty"`
	// ConfList is the CNI network configuration used for ADD, so DEL runs
	// with it even if the conf dir has changed since. An in-process
	// attachment records the default conflist too: CNI DEL with it undoes
	// the attachment (host-local frees the address, bridge the veth).
	ConfList json.RawMessage `json:"confList"`
	// Result is the CNI ADD result.
	Result json.RawMessage `json:"result,omitempty"`
	// forgot waits for the deletion of the address's conntrack entries,
	// started as soon as the address was known (forgetFlowsAsync); nil
	// when none was started.
	forgot func() error
}

func (m *Manager) recordDir() string { return filepath.Join(m.cfg.StateDir, "pods") }
func (m *Manager) ipamDir() string   { return filepath.Join(m.cfg.StateDir, "ipam") }
func (m *Manager) cacheDir() string  { return filepath.Join(m.cfg.StateDir, "cache") }

func (m *Manager) recordPath(p PodRef) string {
	// Namespaces and pod names never hold "_", so the name is unambiguous.
	return filepath.Join(m.recordDir(), p.Namespace+"_"+p.Name+".json")
}

func (m *Manager) readRecord(p PodRef) (*Attachment, error) {
	b, err := os.ReadFile(m.recordPath(p))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading network record of pod %s: %w", p, err)
	}
	var a Attachment
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("decoding network record of pod %s: %w", p, err)
	}
	return &a, nil
}

func (m *Manager) writeRecord(a *Attachment) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding network record of pod %s: %w", a.Pod, err)
	}
	if err := atomicfile.Write(m.recordPath(a.Pod), b, 0o600); err != nil {
		return fmt.Errorf("writing network record of pod %s: %w", a.Pod, err)
	}
	return nil
}

func (m *Manager) removeRecord(p PodRef) error {
	if err := os.Remove(m.recordPath(p)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing network record of pod %s: %w", p, err)
	}
	return syncDir(m.recordDir())
}

// records reads every attachment record, sorted by pod.
func (m *Manager) records() ([]*Attachment, error) {
	ents, err := os.ReadDir(m.recordDir())
	if err != nil {
		return nil, fmt.Errorf("reading network records: %w", err)
	}
	var out []*Attachment
	for _, e := range ents {
		ns, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".json"), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".json") {
			continue // temporary files of atomicfile.Write
		}
		a, err := m.readRecord(PodRef{Namespace: ns, Name: name})
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pod.String() < out[j].Pod.String() })
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fileLock is a held flock(2) lock; it ends when the process does.
type fileLock struct{ release func() }

// lockFile takes the exclusive lock at path, waiting for it.
func lockFile(path string) (*fileLock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	release, err := atomicfile.Lock(context.Background(), path, true)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &fileLock{release: release}, nil
}

func (l *fileLock) unlock() {
	if l != nil {
		l.release()
	}
}

// lockState serialises the podsec processes sharing this state directory
// while they read and change the records (the hostPort reservations).
func (m *Manager) lockState() (*fileLock, error) {
	return lockFile(filepath.Join(m.cfg.StateDir, "lock"))
}

func lockNode() (*fileLock, error) {
	return lockFile(nodeLockPath)
}
