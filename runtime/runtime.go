package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/network"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/seccomp"
	"github.com/podsec/podsec/spec"
)

// Image is what the runtime needs of an image: its config and its unpacked
// layers, lowest first.
type Image struct {
	Config spec.ImageConfig
	Layers []string
}

// ImageSource finds (or pulls, as the pull policy says) a container image.
type ImageSource interface {
	Ensure(ctx context.Context, ref string, policy corev1.PullPolicy) (*Image, error)
}

// Config configures a Runtime.
type Config struct {
	// Root is podsec's state directory (DefaultRoot when empty).
	Root string
	// Images provides container images.
	Images ImageSource
	// SeccompProfileRoot is where Localhost profiles are read.
	SeccompProfileRoot string
	// SeccompDefault is the profile of containers whose pod names none:
	// RuntimeDefault when empty, or Unconfined.
	SeccompDefault corev1.SeccompProfileType
	// Output receives every container's output, each line prefixed with
	// "[container] "; nil discards it.
	Output io.Writer
	// Events receives one line per step of a pod's life (kubectl's event
	// reasons: Pulled, Created, Started, Killing); nil discards them.
	Events io.Writer
	// OnEvent, when set, receives each event (reason and message) in place
	// of Events.
	OnEvent func(pod *corev1.Pod, reason, message string)
	// NetworkChanged, when set, is called once a pod has its IP (before
	// its containers start) and once it has lost it, so the node's
	// NetworkPolicy dataplane covers it. An error stops the pod's start.
	NetworkChanged func() error
	// Network attaches pods to the node's pod network (CNI). Nil leaves a
	// pod's network namespace with loopback only.
	Network *network.Manager
	// PidsLimit caps each pod's processes, all its containers together, in
	// the pod's cgroup (the kubelet's --pod-pids-limit), and each
	// container's, which cannot exceed its pod's anyway: DefaultPidsLimit
	// when 0; -1 for no limit.
	PidsLimit int64
	// AllowedUnsafeSysctls are the kubelet's --allowed-unsafe-sysctls.
	AllowedUnsafeSysctls []string
	// HousekeepingInterval is how often a pod with a local storage limit
	// (ephemeral-storage, a disk emptyDir's sizeLimit) is measured:
	// DefaultHousekeepingInterval when 0.
	HousekeepingInterval time.Duration
	// ContainerLogDir, when set, names the directory of a container's log
	// files, which count in its local storage as the kubelet counts them.
	ContainerLogDir func(pod *corev1.Pod, container string) string
	// ContainerIO, when set, gives each start of a container its stdout
	// and stderr (a supervisor's log files) in place of Output, and a
	// function called once the container has exited and its output is all
	// written. Writers that are files (pipes) are closed once the
	// container runs.
	ContainerIO func(pod *corev1.Pod, container string, attempt int) (stdout, stderr io.Writer, done func(), err error)
	// UserNSBase is the first host ID given to pods with hostUsers: false,
	// a multiple of 65536 (0: pipeline.DefaultUserNSBase, 65536).
	UserNSBase uint32
}

// Runtime runs pods on this node. It is safe to run several pods with one
// Runtime at once.
type Runtime struct {
	cfg    Config
	layout Layout
	node   *pipeline.Node
}

// New prepares a Runtime: it reads the node's facts (capabilities the
// kernel knows, memory) and makes the state root.
func New(cfg Config) (*Runtime, error) {
	if cfg.Root == "" {
		cfg.Root = DefaultRoot
	}
	if cfg.Images == nil {
		return nil, fmt.Errorf("runtime: no image source")
	}
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	if cfg.Events == nil {
		cfg.Events = io.Discard
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	// libcontainer hands namespace paths to its C half as a
	// comma-separated list.
	if strings.ContainsAny(root, ",:") {
		return nil, fmt.Errorf("runtime: state root %q: may not contain ',' or ':'", root)
	}
	for _, d := range []string{root, filepath.Join(root, "pods"), filepath.Join(root, "libcontainer")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("creating state directory: %w", err)
		}
	}
	// Searchable, not listable: the user namespace of a pod with
	// hostUsers: false reaches its containers' rootfs through the root
	// (the image store, made first, may have made it 0700).
	if st, err := os.Stat(root); err == nil && st.Mode().Perm()&0o001 == 0 {
		if err := os.Chmod(root, st.Mode().Perm()|0o011); err != nil {
			return nil, fmt.Errorf("making the state root searchable: %w", err)
		}
	}
	// As runc run does: orphaned container init processes (their
	// intermediate parents exit) come back to podsec, not to a pod
	// sandbox that shares its PID namespace with them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("becoming a child subreaper: %w", err)
	}
	node, err := NodeFacts(NodeConfig{Root: root, SeccompProfileRoot: cfg.SeccompProfileRoot,
		SeccompDefault: cfg.SeccompDefault, PidsLimit: cfg.PidsLimit, AllowedUnsafeSysctls: cfg.AllowedUnsafeSysctls,
		UserNSBase: cfg.UserNSBase})
	if err != nil {
		return nil, err
	}
	return &Runtime{cfg: cfg, layout: Layout{Root: root}, node: node}, nil
}

// NodeConfig is the node's configuration the pipeline's Node is made of.
type NodeConfig struct {
	// Root is the state root (absolute).
	Root string
	// SeccompProfileRoot, SeccompDefault and PidsLimit are as in Config.
	SeccompProfileRoot string
	SeccompDefault     corev1.SeccompProfileType
	PidsLimit          int64
	// AllowedUnsafeSysctls are the kubelet's --allowed-unsafe-sysctls.
	AllowedUnsafeSysctls []string
	// UserNSBase is as in Config.
	UserNSBase uint32
}

// NodeFacts reads this node's facts the pipeline decides with (kernel
// capabilities, memory, hostname, rro support, LSMs, the kernel's sysctl
// allowlist, host devices): the same for podsec spec as for the runtime.
func NodeFacts(cfg NodeConfig) (*pipeline.Node, error) {
	switch cfg.SeccompDefault {
	case "", corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
	default:
		return nil, fmt.Errorf("--seccomp-default: Unsupported value: %q: supported values: \"RuntimeDefault\", \"Unconfined\"", cfg.SeccompDefault)
	}
	if err := pipeline.CheckUserNSBase(cfg.UserNSBase); err != nil {
		return nil, fmt.Errorf("--userns-base: %w", err)
	}
	caps, err := Capabilities()
	if err != nil {
		return nil, err
	}
	mem, err := MemoryBytes()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	profRoot := cfg.SeccompProfileRoot
	if profRoot == "" {
		profRoot = seccomp.DefaultProfileRoot
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, fmt.Errorf("reading the kernel release: %w", err)
	}
	sysctls, err := spec.NewSysctlAllowlist(unix.ByteSliceToString(u.Release[:]), cfg.AllowedUnsafeSysctls)
	if err != nil {
		return nil, err
	}
	devs, err := HostDevices()
	if err != nil {
		return nil, err
	}
	selinux, apparmor := LSMs()
	return &pipeline.Node{
		Root: cfg.Root,
		Spec: spec.Options{
			SeccompDefault:    cfg.SeccompDefault,
			Seccomp:           seccomp.Profiles{Root: profRoot},
			AllCapabilities:   caps,
			NodeMemoryBytes:   mem,
			NodeName:          host,
			RecursiveReadOnly: recursiveReadOnlySupported(),
			PidsLimit:         pidsLimit(cfg.PidsLimit),
		},
		SELinuxEnabled: selinux, AppArmorEnabled: apparmor,
		Sysctls: sysctls, HostDevices: devs, UserNSBase: cfg.UserNSBase,
	}, nil
}

// Node is the node's facts the runtime plans pods with.
func (r *Runtime) Node() *pipeline.Node { return r.node }

// DefaultPidsLimit is each pod's process limit unless the Config says
// otherwise. The kubelet's --pod-pids-limit defaults to none; podsec runs
// without a scheduler or an operator's node sizing, so a limit (8 pods'
// worth of the kernel's default pid_max of 32768) keeps a fork bomb in
// one pod from starving the node.
const DefaultPidsLimit = 4096

func pidsLimit(n int64) int64 {
	switch {
	case n == 0:
		return DefaultPidsLimit
	case n < 0:
		return 0
	}
	return n
}

func (r *Runtime) housekeeping() time.Duration {
	if r.cfg.HousekeepingInterval > 0 {
		return r.cfg.HousekeepingInterval
	}
	return DefaultHousekeepingInterval
}

// Layout is where the runtime keeps its state.
func (r *Runtime) Layout() Layout { return r.layout }
