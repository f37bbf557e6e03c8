package node

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/image"
	"github.com/podsec/podsec/netpolsync"
	"github.com/podsec/podsec/network"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/store"
)

// Config is a node's settings: the podsec command's node flags.
type Config struct {
	// Root is the state root (runtime.DefaultRoot when empty).
	Root string
	// SeccompProfileRoot is where Localhost seccomp profiles are read.
	SeccompProfileRoot string
	// SeccompDefault is the profile of containers whose pod names none:
	// RuntimeDefault when empty, or Unconfined.
	SeccompDefault corev1.SeccompProfileType
	// PidsLimit caps each pod's processes (runtime.DefaultPidsLimit when
	// 0; -1 for no limit).
	PidsLimit int64
	// AllowedUnsafeSysctls are the kubelet's --allowed-unsafe-sysctls.
	AllowedUnsafeSysctls []string
	// HousekeepingInterval is how often pods with a local storage limit
	// are measured (runtime.DefaultHousekeepingInterval when 0).
	HousekeepingInterval time.Duration
	// RestartBackoff is the first delay of a detached pod's restart
	// back-off (the supervisor's default, 10s, when 0).
	RestartBackoff time.Duration
	// ImageLimits bound what images may take; a zero field keeps the
	// image package's default.
	ImageLimits image.Limits
	// CNI, when set, attaches pods to the node's CNI network and keeps
	// the NetworkPolicy dataplane in step; nil gives pods loopback only.
	CNI *CNI
	// Output receives the containers' output, each line prefixed with
	// "[container] "; nil discards it.
	Output io.Writer
	// Events receives one line per step of a pod's life; nil discards it.
	Events io.Writer
	// Warnings receives admission's warnings ("Warning: ..." lines, as
	// kubectl prints them) and audit log failures; nil discards them.
	Warnings io.Writer
	// Progress receives image pull progress; nil discards it.
	Progress io.Writer
	// UserNSBase is the first host ID given to pods with hostUsers: false,
	// a multiple of 65536 above the node's own IDs (0: 65536, as the
	// kubelet).
	UserNSBase uint32
}

// CNI is the node's pod network.
type CNI struct {
	// ConfDir holds the CNI network configurations; podsec writes its own
	// there when it has none.
	ConfDir string
	// BinDirs are the directories of CNI plugins.
	BinDirs []string
	// NetpolTable is the NetworkPolicy dataplane's nftables table (the
	// dataplane's default when empty).
	NetpolTable string
}

// Node is a podsec node: its stores under the state root, the pipeline
// with admission, and the runtime. Its methods are safe to call at once.
type Node struct {
	cfg  Config
	root string

	mu      sync.Mutex
	objects *store.Store
	images  *image.Store
	nw      *network.Manager
	rt      *runtime.Runtime
}

// Open returns the node of cfg. It only checks cfg: stores, the network
// and the runtime are made when first needed, so commands that only
// decide (podsec spec, admit) leave the node as they found it.
func Open(cfg Config) (*Node, error) {
	if cfg.Root == "" {
		cfg.Root = runtime.DefaultRoot
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("opening node: %w", err)
	}
	for _, w := range []*io.Writer{&cfg.Output, &cfg.Events, &cfg.Warnings} {
		if *w == nil {
			*w = io.Discard
		}
	}
	return &Node{cfg: cfg, root: root}, nil
}

// Root is the node's state root, absolute.
func (n *Node) Root() string { return n.root }

// ImageRoot is the image store of a state root.
func ImageRoot(root string) string { return filepath.Join(root, "images") }

// Images is the node's image store, made if it does not exist; an
// invalid Config.ImageLimits is its error.
func (n *Node) Images() (*image.Store, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.images == nil {
		if n.cfg.ImageLimits != (image.Limits{}) { // zero: the defaults
			if err := n.cfg.ImageLimits.Validate(); err != nil {
				return nil, err
			}
		}
		s, err := image.Open(ImageRoot(n.root), image.WithLimits(n.cfg.ImageLimits))
		if err != nil {
			return nil, err
		}
		n.images = s
	}
	return n.images, nil
}

// existingImages is the image store where it exists, nil otherwise: for
// commands that must not make one.
func (n *Node) existingImages() (*image.Store, error) {
	if _, err := os.Stat(ImageRoot(n.root)); err != nil {
		return nil, nil
	}
	return n.Images()
}

// Objects is the store of the objects podsec apply keeps (policies, RBAC,
// namespaces, NetworkPolicies), opened once: it keeps what admission
// makes of a store generation (store.Store.AdmissionObjects) between
// pods.
func (n *Node) Objects() (*store.Store, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.objects == nil {
		st, err := store.Open(n.root)
		if err != nil {
			return nil, err
		}
		n.objects = st
	}
	return n.objects, nil
}

// Facts are this node's facts the pipeline decides with.
func (n *Node) Facts() (*pipeline.Node, error) {
	return runtime.NodeFacts(runtime.NodeConfig{Root: n.root, SeccompProfileRoot: n.cfg.SeccompProfileRoot,
		SeccompDefault: n.cfg.SeccompDefault, PidsLimit: n.cfg.PidsLimit, AllowedUnsafeSysctls: n.cfg.AllowedUnsafeSysctls,
		UserNSBase: n.cfg.UserNSBase})
}

// Network is the node's pod network, nil without Config.CNI.
func (n *Node) Network() (*network.Manager, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.networkLocked()
}

func (n *Node) networkLocked() (*network.Manager, error) {
	if n.cfg.CNI == nil || n.nw != nil {
		return n.nw, nil
	}
	nw, err := network.New(network.Config{StateDir: filepath.Join(n.root, "network"), ConfDir: n.cfg.CNI.ConfDir, BinDirs: n.cfg.CNI.BinDirs})
	if err != nil {
		return nil, err
	}
	n.nw = nw
	return nw, nil
}

// SyncNetworkPolicies programs the node's NetworkPolicy dataplane from
// the stored policies and the running pods.
func (n *Node) SyncNetworkPolicies() error {
	table := ""
	if n.cfg.CNI != nil {
		table = n.cfg.CNI.NetpolTable
	}
	return netpolsync.Sync(n.root, table)
}

// Runtime is the node's runtime, made on first use (it makes the state
// root and makes this process a child subreaper).
func (n *Node) Runtime() (*runtime.Runtime, error) {
	images, err := n.Images()
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.rt != nil {
		return n.rt, nil
	}
	nw, err := n.networkLocked()
	if err != nil {
		return nil, err
	}
	var changed func() error
	if nw != nil {
		changed = n.SyncNetworkPolicies
	}
	rt, err := runtime.New(runtime.Config{
		Root: n.root, Images: ImageSource(images, n.cfg.Progress), Network: nw, NetworkChanged: changed,
		SeccompProfileRoot: n.cfg.SeccompProfileRoot, SeccompDefault: n.cfg.SeccompDefault,
		Output: n.cfg.Output, Events: n.cfg.Events,
		PidsLimit: n.cfg.PidsLimit, HousekeepingInterval: n.cfg.HousekeepingInterval,
		AllowedUnsafeSysctls: n.cfg.AllowedUnsafeSysctls, UserNSBase: n.cfg.UserNSBase,
	})
	if err != nil {
		return nil, err
	}
	n.rt = rt
	return rt, nil
}

// Close lets the node's network go: the bridge is removed when the last
// pod of the node has gone. Pods still running keep it.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nw == nil {
		return nil
	}
	err := n.nw.Close(ctx)
	n.nw = nil
	return err
}
