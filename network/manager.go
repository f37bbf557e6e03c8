package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"github.com/podsec/podsec/internal/trace"
)

// podIfName is the pod's interface, as every Kubernetes runtime names it.
const podIfName = "eth0"

// teardownTimeout bounds a teardown. It does not follow the caller's
// cancellation: a pod is usually torn down because its context ended.
const teardownTimeout = 60 * time.Second

// Manager attaches pods to the node's CNI network. Several Managers, in
// one process or several, may share a state directory.
type Manager struct {
	cfg  Config
	cni  *libcni.CNIConfig
	list *libcni.NetworkConfigList
	// inProcess: new attachments are made in-process (inproc.go), with
	// the conflist's bridge, subnet and masquerade (in cfg).
	inProcess bool
	// ipamData is host-local's data directory of the network.
	ipamData string
	// realDir is the state directory's real path (realPath), and
	// rootHash the hash of it that names the root's tables.
	realDir, rootHash string
}

// New prepares pod networking: it makes the state directory and loads the
// CNI network, writing podsec's default conflist when the conf dir has no
// network of that name, and chooses the backend (Config.Backend). It
// changes nothing on the node's network.
func New(cfg Config) (*Manager, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg}
	for _, d := range []string{cfg.StateDir, m.recordDir(), m.ipamDir(), m.cacheDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating network state directory: %w", err)
		}
	}
	m.realDir = realPath(cfg.StateDir)
	m.rootHash = tableHash(m.realDir)
	list, _, err := loadConfList(cfg, m.ipamDir())
	if err != nil {
		return nil, err
	}
	m.list, m.ipamData = list, m.ipamDir()
	def, isDefault := parseDefault(list)
	if isDefault {
		m.ipamData = def.dataDir
	}
	switch cfg.Backend {
	case BackendInProcess:
		if !isDefault {
			return nil, fmt.Errorf("%w: network %q of %s is not podsec's default conflist: only CNI plugins can run it", ErrInvalid, list.Name, cfg.ConfDir)
		}
		m.inProcess = true
	case BackendAuto:
		m.inProcess = isDefault
	}
	if m.inProcess {
		m.cfg.Bridge, m.cfg.Subnet, m.cfg.DisableIPMasq = def.bridge, def.subnet, !def.masq
	}
	if !m.inProcess {
		if _, err := exec.LookPath("iptables"); err != nil {
			return nil, fmt.Errorf("finding iptables (CNI's bridge and portmap plugins need it): %w", err)
		}
	}
	m.cni = libcni.NewCNIConfigWithCacheDir(cfg.BinDirs, m.cacheDir(), nil)
	return m, nil
}

// Setup attaches a pod's network namespace (netnsPath, e.g. a bind mount
// of the pod sandbox's) to the network and maps its hostPorts. The ports
// are reserved first: a port held by another pod (ErrPortConflict) or bound
// by another process of the node (ErrPortInUse) is refused before anything
// is created. The attachment is recorded before CNI ADD runs, so Teardown
// works from the record alone, even in a later podsec. On error, whatever
// Setup did is undone.
func (m *Manager) Setup(ctx context.Context, pod PodRef, netnsPath string, ports []PortMapping) (_ *Attachment, err error) {
	if err := pod.validate(); err != nil {
		return nil, err
	}
	if ports, err = normalizePorts(ports); err != nil {
		return nil, err
	}
	if !isNetNS(netnsPath) {
		return nil, fmt.Errorf("%w: %s is not a network namespace", ErrInvalid, netnsPath)
	}
	a := &Attachment{
		Pod:         pod,
		ContainerID: newContainerID(),
		NetNS:       netnsPath,
		Network:     m.list.Name,
		IfName:      podIfName,
		Ports:       ports,
		Pending:     true,
		Created:     time.Now().UTC(),
		ConfList:    json.RawMessage(m.list.Bytes),
	}
	if m.inProcess {
		a.InProcess, a.Masquerade, a.HostIf = true, !m.cfg.DisableIPMasq, newHostIfName()
	}
	end := trace.Step("reserve")
	if err := m.reserve(a); err != nil {
		return nil, err
	}
	end()
	defer func() {
		if err != nil {
			if terr := m.teardown(ctx, a); terr != nil {
				err = errors.Join(err, fmt.Errorf("undoing network setup: %w", terr))
			}
		}
	}()
	if m.inProcess {
		if err := m.setupInProcess(a, netnsPath); err != nil {
			return nil, err
		}
		return a, nil
	}
	if err := prepareNetNS(netnsPath); err != nil {
		return nil, err
	}
	nl, err := lockNode()
	if err != nil {
		return nil, err
	}
	res, err := m.cni.AddNetworkList(ctx, m.list, a.runtimeConf(netnsPath))
	nl.unlock()
	if err != nil {
		return nil, fmt.Errorf("attaching pod %s to network %q: %w", pod, m.list.Name, err)
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("reading the CNI result of pod %s: %w", pod, err)
	}
	for _, ipc := range r.IPs {
		if ip4 := ipc.Address.IP.To4(); ip4 != nil {
			a.IP, a.Gateway, a.Subnet = ip4, ipc.Gateway, ipc.Address.String()
			break
		}
	}
	if a.IP == nil {
		return nil, fmt.Errorf("attaching pod %s to network %q: the CNI result has no IPv4 address", pod, m.list.Name)
	}
	if a.Result, err = json.Marshal(r); err != nil {
		return nil, fmt.Errorf("encoding the CNI result of pod %s: %w", pod, err)
	}
	if err := disableIPv6(netnsPath, a.IfName); err != nil {
		return nil, err
	}
	if a.HostIf, a.MAC, err = hostSide(netnsPath, a.IfName); err != nil {
		return nil, fmt.Errorf("attaching pod %s to network %q: %w", pod, m.list.Name, err)
	}
	return a, m.commit(a)
}

// prepareNetNS brings lo up and turns IPv6 off in the pod's namespace,
// before eth0 exists, so that it never has an fe80:: address.
func prepareNetNS(netnsPath string) error {
	defer trace.Step("loopback and IPv6 off")()
	if err := loopbackUp(netnsPath); err != nil {
		return err
	}
	return disableIPv6(netnsPath)
}

// setupInProcess attaches the pod in-process and commits its record.
func (m *Manager) setupInProcess(a *Attachment, netnsPath string) error {
	if err := m.attachInProcess(a, netnsPath); err != nil {
		return fmt.Errorf("attaching pod %s to network %q: %w", a.Pod, m.list.Name, err)
	}
	end := trace.Step("IPv6 off on " + a.IfName)
	if err := disableIPv6(netnsPath, a.IfName); err != nil {
		return err
	}
	end()
	return m.commit(a)
}

// commit forgets the node's flows of the pod's address, records the
// attachment as done and programs the guard (and NAT) tables from the
// records, under one hold of the state lock: before any container of the
// pod runs, its frames carry its own addresses or go nowhere, and no flow
// of the address's previous pod reaches it.
func (m *Manager) commit(a *Attachment) error {
	// The address may have been another pod's: none of that pod's flows
	// may reach this one.
	wait := a.forgot
	if wait == nil {
		wait = func() error { return forgetFlows(a.IP) }
	}
	end := trace.Step("conntrack")
	if err := wait(); err != nil {
		return fmt.Errorf("attaching pod %s to network %q: %w", a.Pod, m.list.Name, err)
	}
	end()
	a.Pending = false
	l, err := m.lockState()
	if err != nil {
		return err
	}
	defer l.unlock()
	end = trace.Step("record")
	if err := m.writeRecord(a); err != nil {
		return err
	}
	end()
	defer trace.Step("guard and NAT tables")()
	if err := m.syncGuardLocked(); err != nil {
		return fmt.Errorf("attaching pod %s to network %q: %w", a.Pod, m.list.Name, err)
	}
	return nil
}

// reserve checks the pod's ports against every recorded attachment, of
// this root and the node's others, and the node's listeners, and records
// the pending attachment, all under the state lock and, for a pod with
// hostPorts, the node lock, so that two podsec processes cannot both win
// a port.
func (m *Manager) reserve(a *Attachment) error {
	l, err := m.lockState()
	if err != nil {
		return err
	}
	defer l.unlock()
	if len(a.Ports) > 0 {
		nl, err := lockNode()
		if err != nil {
			return err
		}
		defer nl.unlock()
		if err := m.registerRoot(); err != nil {
			return err
		}
	}
	if err := m.checkPortsLocked(a.Pod, a.Ports); err != nil {
		return err
	}
	return m.writeRecord(a)
}

// checkPortsLocked refuses a pod already attached, and ports held by a
// recorded attachment or bound on the node. The state lock is held.
func (m *Manager) checkPortsLocked(pod PodRef, ports []PortMapping) error {
	recs, err := m.records()
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Pod.Namespace == pod.Namespace && r.Pod.Name == pod.Name {
			return fmt.Errorf("%w: pod %s (container %s)", ErrAttached, pod, r.ContainerID)
		}
	}
	if err := conflict(ports, recs); err != nil {
		return err
	}
	if err := m.otherRootsConflict(ports); err != nil {
		return err
	}
	for _, p := range ports {
		if err := probePort(p); err != nil {
			return err
		}
	}
	return nil
}

// Teardown detaches a pod from the network, from its record alone: CNI DEL
// (portmap, firewall, then bridge, with the result cached at ADD), then
// the release of its ports and record. The pod's network namespace may be
// gone already: the plugins still release the IP and the port mappings,
// and podsec removes the masquerade rules bridge cannot find without it.
// A pod without a record is no error. The caller's cancellation is not
// followed, so that a pod stopped by a signal is still torn down.
func (m *Manager) Teardown(ctx context.Context, pod PodRef) error {
	if err := pod.validate(); err != nil {
		return err
	}
	a, err := m.readRecord(pod)
	if err != nil || a == nil {
		return err
	}
	return m.teardown(ctx, a)
}

// teardown detaches the pod, then drops it from the guard table, once the
// node lock is released (Close takes the state lock before the node lock).
func (m *Manager) teardown(ctx context.Context, a *Attachment) error {
	// A teardown run again after DEL released the address, which another
	// pod may hold now: its flows are that pod's.
	other := !a.InProcess && m.ipam().takenByOther(a.ContainerID, a.IP)
	if err := m.detach(ctx, a); err != nil {
		return err
	}
	if a.InProcess {
		return nil // detachInProcess took it out of the tables and forgot its flows
	}
	// Flows to the pod's hostPorts end with it, as portmap ends them;
	// the next pod given the address forgets all of its flows anyway.
	if len(a.Ports) > 0 && !other {
		if err := forgetFlows(a.IP); err != nil {
			return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
		}
	}
	return m.syncGuard()
}

func (m *Manager) detach(ctx context.Context, a *Attachment) error {
	if a.InProcess {
		return m.detachInProcess(a)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
	defer cancel()
	list, err := libcni.ConfListFromBytes(a.ConfList)
	if err != nil {
		return fmt.Errorf("tearing down network of pod %s: recorded CNI network: %w", a.Pod, err)
	}
	netns := a.NetNS
	if !isNetNS(netns) {
		netns = "" // plugins then release what does not need the namespace
	}
	nl, err := lockNode()
	if err != nil {
		return err
	}
	defer nl.unlock()
	// The pod's IP is still its own until DEL releases it, and no other
	// CNI attachment can take it while the node lock is held: rules naming
	// it are the pod's until the lock is released. Unless a DEL before
	// this one, killed before the record went, released it, and another
	// pod holds it now: the rules naming it are that pod's.
	ip := a.IP
	if ip == nil {
		ip = m.allocatedIP(a.ContainerID)
	}
	if m.ipam().takenByOther(a.ContainerID, ip) {
		ip = nil
	}
	if err := m.cni.DelNetworkList(ctx, list, a.runtimeConf(netns)); err != nil {
		return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
	}
	if err := sweepContainer(ctx, a.ContainerID, ip); err != nil {
		return fmt.Errorf("tearing down network of pod %s: %w", a.Pod, err)
	}
	return m.removeRecord(a.Pod)
}

// Check runs CNI CHECK on a pod's attachment: its interface, address,
// routes and firewall rules are still what ADD made. portmap is left out
// (see below).
func (m *Manager) Check(ctx context.Context, pod PodRef) error {
	a, err := m.Get(pod)
	if err != nil {
		return err
	}
	if a.InProcess {
		if err := m.checkInProcess(a); err != nil {
			return fmt.Errorf("checking network of pod %s: %w", pod, err)
		}
		return nil
	}
	list, err := libcni.ConfListFromBytes(a.ConfList)
	if err != nil {
		return fmt.Errorf("checking network of pod %s: recorded CNI network: %w", pod, err)
	}
	// portmap 1.1.1 (Debian 12) fails CHECK whenever ip6tables exists and
	// the pod has no IPv6 address: it looks for an IPv6 chain it never
	// made.
	checked := *list
	checked.Plugins = nil
	for _, p := range list.Plugins {
		if p.Network.Type != "portmap" {
			checked.Plugins = append(checked.Plugins, p)
		}
	}
	if err := m.cni.CheckNetworkList(ctx, &checked, a.runtimeConf(a.NetNS)); err != nil {
		return fmt.Errorf("checking network of pod %s: %w", pod, err)
	}
	return nil
}

// Get gives a pod's recorded attachment, or ErrNotAttached.
func (m *Manager) Get(pod PodRef) (*Attachment, error) {
	if err := pod.validate(); err != nil {
		return nil, err
	}
	a, err := m.readRecord(pod)
	if err == nil && a == nil {
		err = fmt.Errorf("%w: pod %s", ErrNotAttached, pod)
	}
	return a, err
}

// List gives every recorded attachment, sorted by pod, pending ones
// included.
func (m *Manager) List() ([]*Attachment, error) {
	return m.records()
}

// GC tears down the attachments of pods that alive reports gone, such as
// those of a podsec that was killed. An attachment still pending belongs to
// a Setup that may be running: call GC when no Setup runs (at startup), or
// make alive report the pods being started.
func (m *Manager) GC(ctx context.Context, alive func(PodRef) bool) error {
	recs, err := m.records()
	if err != nil {
		return err
	}
	var errs []error
	left := false
	for _, a := range recs {
		if !alive(a.Pod) {
			errs = append(errs, m.detach(ctx, a))
		} else {
			left = left || a.InProcess && !a.Pending
		}
	}
	// Also repairs a guard table that a killed podsec left behind, and
	// the root's FORWARD rules, which the pods left still need.
	errs = append(errs, m.syncGuard())
	if left {
		errs = append(errs, m.repairForward(ctx))
	}
	return errors.Join(errs...)
}

// repairForward adds again what is missing of the root's FORWARD rules,
// under the node lock.
func (m *Manager) repairForward(ctx context.Context) error {
	nl, err := lockNode()
	if err != nil {
		return err
	}
	defer nl.unlock()
	if err := m.openForward(ctx); err != nil {
		return fmt.Errorf("repairing the FORWARD rules: %w", err)
	}
	return nil
}

func (a *Attachment) runtimeConf(netns string) *libcni.RuntimeConf {
	args := [][2]string{
		{"IgnoreUnknown", "1"},
		{"K8S_POD_NAMESPACE", a.Pod.Namespace},
		{"K8S_POD_NAME", a.Pod.Name},
		{"K8S_POD_INFRA_CONTAINER_ID", a.ContainerID},
	}
	if a.Pod.UID != "" {
		args = append(args, [2]string{"K8S_POD_UID", a.Pod.UID})
	}
	return &libcni.RuntimeConf{
		ContainerID:    a.ContainerID,
		NetNS:          netns,
		IfName:         a.IfName,
		Args:           args,
		CapabilityArgs: capabilityArgs(a.Ports),
	}
}

func newContainerID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// allocatedIP finds the address host-local allocated to a container in
// podsec's IPAM data: a Setup whose ADD failed part way has no result, and
// libcni then caches none, so DEL cannot tell the firewall plugin which
// rules were the pod's.
func (m *Manager) allocatedIP(containerID string) net.IP {
	dir := filepath.Join(m.ipamData, m.list.Name)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		ip := net.ParseIP(e.Name())
		if ip == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]) == containerID {
			return ip
		}
	}
	return nil
}

// CheckPorts tells whether Setup would refuse the pod's host ports (held by
// another pod, or bound by another process of the node), so a runtime can
// refuse the pod before it creates anything. Setup checks again under its
// lock: this is an early answer, not a reservation.
func (m *Manager) CheckPorts(pod PodRef, ports []PortMapping) error {
	ports, err := normalizePorts(ports)
	if err != nil {
		return err
	}
	l, err := m.lockState()
	if err != nil {
		return err
	}
	defer l.unlock()
	return m.checkPortsLocked(pod, ports)
}
