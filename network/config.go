package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"

	"github.com/podsec/podsec/internal/atomicfile"
)

// Defaults of Config.
const (
	DefaultConfDir = "/etc/cni/net.d"
	DefaultNetwork = "podsec"
	DefaultBridge  = "podsec0"
	// DefaultSubnet avoids the defaults of Docker (172.17.0.0/16), Podman
	// (10.88.0.0/16, then 10.89.x.0/24), flannel (10.244.0.0/16), k3s
	// (10.42.0.0/16, 10.43.0.0/16), Weave (10.32.0.0/12) and the usual
	// Service range (10.96.0.0/12).
	DefaultSubnet = "10.90.0.0/16"
	// ConfFileName is the conflist podsec writes when ConfDir holds no
	// network of Config.Network's name.
	ConfFileName = "podsec.conflist"
)

// DefaultBinDirs are where CNI plugins are looked for: Debian's package
// first, then the upstream location.
var DefaultBinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// Config configures a Manager. Only StateDir is required.
type Config struct {
	// StateDir holds podsec's network state: attachment records (which
	// also hold the hostPort reservations), the host-local IPAM data and
	// libcni's cache. Use a directory under podsec's state root, e.g.
	// <root>/network.
	StateDir string
	// ConfDir is where the CNI network configuration is read
	// (DefaultConfDir when empty).
	ConfDir string
	// BinDirs are where CNI plugins are found (DefaultBinDirs when empty).
	BinDirs []string
	// Network is the name of the CNI network pods join (DefaultNetwork when
	// empty). When ConfDir holds no network of that name, podsec writes
	// ConfFileName there with the bridge, firewall and portmap plugins; an
	// existing one is never rewritten, so an administrator may replace it.
	Network string
	// Bridge is the bridge of the default conflist (DefaultBridge when
	// empty; at most 15 characters).
	Bridge string
	// Subnet is the pod subnet of the default conflist, IPv4 CIDR
	// (DefaultSubnet when empty).
	Subnet string
	// DisableIPMasq turns off the masquerading of pod traffic that leaves
	// the subnet (the default conflist's bridge "ipMasq").
	DisableIPMasq bool
	// Backend chooses who attaches pods (BackendAuto when empty).
	Backend Backend
}

// Backend is who attaches pods to the network.
type Backend string

// Backends of Config.Backend.
const (
	// BackendAuto attaches pods in-process when the network is podsec's
	// own default conflist (written by podsec, unchanged), and through
	// libcni and the CNI plugins otherwise: a conflist an administrator
	// wrote or changed runs the plugins it names.
	BackendAuto Backend = ""
	// BackendInProcess does what the default conflist's plugins do with
	// netlink and nftables, in podsec's process. It refuses any other
	// network.
	BackendInProcess Backend = "in-process"
	// BackendCNI runs the conflist's plugins through libcni, the default
	// conflist too.
	BackendCNI Backend = "cni"
)

func (c *Config) setDefaults() error {
	if c.StateDir == "" {
		return fmt.Errorf("%w: network state directory not set", ErrInvalid)
	}
	if c.ConfDir == "" {
		c.ConfDir = DefaultConfDir
	}
	if len(c.BinDirs) == 0 {
		c.BinDirs = DefaultBinDirs
	}
	if c.Network == "" {
		c.Network = DefaultNetwork
	}
	if c.Bridge == "" {
		c.Bridge = DefaultBridge
	}
	if len(c.Bridge) > 15 {
		return fmt.Errorf("%w: bridge name %q is longer than 15 characters", ErrInvalid, c.Bridge)
	}
	if c.Subnet == "" {
		c.Subnet = DefaultSubnet
	}
	ip, ipnet, err := net.ParseCIDR(c.Subnet)
	if err != nil || ip.To4() == nil {
		return fmt.Errorf("%w: pod subnet %q is not an IPv4 CIDR", ErrInvalid, c.Subnet)
	}
	if ones, _ := ipnet.Mask.Size(); ones > 28 {
		return fmt.Errorf("%w: pod subnet %q is too small", ErrInvalid, c.Subnet)
	}
	c.Subnet = ipnet.String()
	switch c.Backend {
	case BackendAuto, BackendInProcess, BackendCNI:
	default:
		return fmt.Errorf("%w: network backend %q is not %q or %q", ErrInvalid, c.Backend, BackendInProcess, BackendCNI)
	}
	return nil
}

// defaultConfList is the network podsec writes when the conf dir has none
// of its name. portmap runs last so that it sees the pod's IP in the
// previous result; firewall lets pod traffic through a FORWARD chain whose
// policy is DROP (as Docker leaves it); loopback is not needed because the
// pod sandbox brings lo up itself.
func defaultConfList(c Config, ipamDir string) ([]byte, error) {
	list := map[string]any{
		"cniVersion": "1.0.0",
		"name":       c.Network,
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      c.Bridge,
				"isGateway":   true,
				"ipMasq":      !c.DisableIPMasq,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": ipamDir,
					"ranges":  [][]map[string]string{{{"subnet": c.Subnet}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "firewall", "backend": "iptables"},
			map[string]any{
				"type":         "portmap",
				"capabilities": map[string]bool{"portMappings": true},
				"snat":         true,
			},
		},
	}
	return json.MarshalIndent(list, "", "  ")
}

// loadConfList finds the network named c.Network in c.ConfDir, writing the
// default conflist first when there is none. isDefault tells whether the
// network is podsec's default conflist for c, byte for byte.
func loadConfList(c Config, ipamDir string) (list *libcni.NetworkConfigList, isDefault bool, err error) {
	def, err := defaultConfList(c, ipamDir)
	if err != nil {
		return nil, false, fmt.Errorf("encoding the default CNI network: %w", err)
	}
	list, err = libcni.LoadConfList(c.ConfDir, c.Network)
	if err == nil {
		return list, bytes.Equal(list.Bytes, def), nil
	}
	var nf libcni.NotFoundError
	var none libcni.NoConfigsFoundError
	if !errors.As(err, &nf) && !errors.As(err, &none) && !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("loading CNI network %q from %s: %w", c.Network, c.ConfDir, err)
	}
	if err := checkSubnet(c.Subnet, c.Bridge); err != nil {
		return nil, false, err
	}
	b := def
	if err := os.MkdirAll(c.ConfDir, 0o755); err != nil {
		return nil, false, fmt.Errorf("creating CNI conf dir: %w", err)
	}
	path := filepath.Join(c.ConfDir, ConfFileName)
	if _, err := os.Stat(path); err == nil {
		return nil, false, fmt.Errorf("CNI conf %s exists but does not define network %q", path, c.Network)
	}
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return nil, false, fmt.Errorf("writing the default CNI network: %w", err)
	}
	list, err = libcni.ConfListFromBytes(b)
	if err != nil {
		return nil, false, fmt.Errorf("parsing the default CNI network: %w", err)
	}
	return list, true, nil
}

// defaultNet is what podsec's default conflist sets: the in-process
// network runs from it.
type defaultNet struct {
	bridge, subnet, dataDir string
	masq                    bool
}

// parseDefault tells whether list is podsec's default conflist as podsec
// writes it (for any bridge, subnet, ipMasq and IPAM data directory), byte
// for byte, and gives its settings. Any other conflist, an edited default
// one too, is for the CNI plugins.
func parseDefault(list *libcni.NetworkConfigList) (defaultNet, bool) {
	var d struct {
		Plugins []struct {
			Type   string `json:"type"`
			Bridge string `json:"bridge"`
			IPMasq bool   `json:"ipMasq"`
			IPAM   struct {
				DataDir string `json:"dataDir"`
				Ranges  [][]struct {
					Subnet string `json:"subnet"`
				} `json:"ranges"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if json.Unmarshal(list.Bytes, &d) != nil || len(d.Plugins) == 0 || d.Plugins[0].Type != "bridge" ||
		len(d.Plugins[0].IPAM.Ranges) != 1 || len(d.Plugins[0].IPAM.Ranges[0]) != 1 {
		return defaultNet{}, false
	}
	b := d.Plugins[0]
	n := defaultNet{bridge: b.Bridge, subnet: b.IPAM.Ranges[0][0].Subnet, dataDir: b.IPAM.DataDir, masq: b.IPMasq}
	c := Config{Network: list.Name, Bridge: n.bridge, Subnet: n.subnet, DisableIPMasq: !n.masq}
	if len(c.Bridge) == 0 || len(c.Bridge) > 15 || n.dataDir == "" {
		return defaultNet{}, false
	}
	if ip, sn, err := net.ParseCIDR(c.Subnet); err != nil || ip.To4() == nil || sn.String() != c.Subnet {
		return defaultNet{}, false
	}
	want, err := defaultConfList(c, n.dataDir)
	if err != nil || !bytes.Equal(want, list.Bytes) {
		return defaultNet{}, false
	}
	return n, true
}
