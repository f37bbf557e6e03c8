package supervisor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/runtime"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrExists: a pod of that name is already recorded in the namespace.
	ErrExists = errors.New("already exists")
	// ErrNotFound: no pod of that name is recorded in the namespace.
	ErrNotFound = errors.New("not found")
)

// Store holds the records of supervised pods.
type Store struct {
	root string
}

// Open returns the store of the state root.
func Open(root string) *Store { return &Store{root: filepath.Join(root, "supervisor")} }

// Dir is the record directory of a pod.
func (s *Store) Dir(namespace, name string) string { return filepath.Join(s.root, namespace, name) }

// Sources are the ConfigMaps and Secrets a pod was given.
type Sources struct {
	ConfigMaps []*corev1.ConfigMap `json:"configMaps,omitempty"`
	Secrets    []*corev1.Secret    `json:"secrets,omitempty"`
}

// Options tune a supervisor.
type Options struct {
	// BackoffBase is the first restart delay (the kubelet's 10 s); each
	// restart doubles it up to BackoffMax (5 min). Tests shorten them.
	BackoffBase time.Duration `json:"backoffBase,omitempty"`
	BackoffMax  time.Duration `json:"backoffMax,omitempty"`
	// BackoffReset is how long a container must run for its back-off to
	// start again from BackoffBase (10 min).
	BackoffReset time.Duration `json:"backoffReset,omitempty"`
	// Network is "cni" or "none".
	Network string `json:"network,omitempty"`
	// CNIConfDir and CNIBinDirs locate the CNI configuration and plugins.
	CNIConfDir string   `json:"cniConfDir,omitempty"`
	CNIBinDirs []string `json:"cniBinDirs,omitempty"`
	// SeccompProfileRoot and SeccompDefault are the node's seccomp choices.
	SeccompProfileRoot string `json:"seccompProfileRoot,omitempty"`
	SeccompDefault     string `json:"seccompDefault,omitempty"`
	// NetpolTable is the nftables table of the NetworkPolicy dataplane.
	NetpolTable string `json:"netpolTable,omitempty"`
	// PodPidsLimit is the node's --pod-pids-limit (runtime.Config.PidsLimit).
	PodPidsLimit int64 `json:"podPidsLimit,omitempty"`
	// HousekeepingInterval is how often local storage is measured.
	HousekeepingInterval time.Duration `json:"housekeepingInterval,omitempty"`
	// UserNSBase is the node's --userns-base (runtime.Config.UserNSBase).
	UserNSBase uint32 `json:"userNSBase,omitempty"`
}

func (o Options) withDefaults() Options {
	if o.BackoffBase == 0 {
		o.BackoffBase = 10 * time.Second
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = 5 * time.Minute
	}
	if o.BackoffReset == 0 {
		o.BackoffReset = 10 * time.Minute
	}
	return o
}

// Event is one happening of a pod's life, as `kubectl describe` lists them.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"` // Normal or Warning
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
}

// Record is what is known of a supervised pod.
type Record struct {
	Pod        *corev1.Pod
	Status     corev1.PodStatus
	Supervisor runtime.Owner
	// SupervisorAlive tells whether the supervisor still runs.
	SupervisorAlive bool
}

// Create records a new pod, refusing a duplicate name in the namespace.
func (s *Store) Create(pod *corev1.Pod, src Sources, opts Options) error {
	for _, n := range []string{pod.Namespace, pod.Name} {
		if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
			return fmt.Errorf("invalid name %q: %s", n, strings.Join(errs, "; "))
		}
	}
	dir := s.Dir(pod.Namespace, pod.Name)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("pods %q %w", pod.Name, ErrExists)
		}
		return err
	}
	st := corev1.PodStatus{Phase: corev1.PodPending, QOSClass: qos(pod)}
	for _, w := range []struct {
		name string
		v    any
	}{{"pod.json", pod}, {"sources.json", src}, {"options.json", opts}, {"status.json", st}} {
		if err := atomicfile.WriteJSON(filepath.Join(dir, w.name), w.v); err != nil {
			os.RemoveAll(dir)
			return err
		}
	}
	return nil
}

// Get reads a pod's record.
func (s *Store) Get(namespace, name string) (*Record, error) {
	dir := s.Dir(namespace, name)
	r := &Record{Pod: &corev1.Pod{}}
	if err := readJSONFile(filepath.Join(dir, "pod.json"), r.Pod); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("pods %q %w", name, ErrNotFound)
		}
		return nil, err
	}
	if err := readJSONFile(filepath.Join(dir, "status.json"), &r.Status); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := readJSONFile(filepath.Join(dir, "supervisor.json"), &r.Supervisor); err == nil {
		r.SupervisorAlive = r.Supervisor.Alive()
	}
	return r, nil
}

// List reads every record of a namespace, or of all when namespace is "".
func (s *Store) List(namespace string) ([]*Record, error) {
	nss := []string{namespace}
	if namespace == "" {
		ents, err := os.ReadDir(s.root)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		nss = nil
		for _, e := range ents {
			nss = append(nss, e.Name())
		}
	}
	var out []*Record
	for _, ns := range nss {
		ents, err := os.ReadDir(filepath.Join(s.root, ns))
		if err != nil {
			continue
		}
		for _, e := range ents {
			r, err := s.Get(ns, e.Name())
			if err != nil {
				continue
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pod.Namespace != out[j].Pod.Namespace {
			return out[i].Pod.Namespace < out[j].Pod.Namespace
		}
		return out[i].Pod.Name < out[j].Pod.Name
	})
	return out, nil
}

// Remove deletes a pod's record, logs included.
func (s *Store) Remove(namespace, name string) error {
	dir := s.Dir(namespace, name)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("pods %q %w", name, ErrNotFound)
	}
	return os.RemoveAll(dir)
}

// Events reads a pod's events.
func (s *Store) Events(namespace, name string) ([]Event, error) {
	f, err := os.Open(filepath.Join(s.Dir(namespace, name), "events.jsonl"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// LogPath is the log file of one start (attempt) of a container.
func (s *Store) LogPath(namespace, name, container string, attempt int) string {
	return filepath.Join(s.Dir(namespace, name), "logs", container, strconv.Itoa(attempt)+".log")
}

// Sources reads what a pod was given.
func (s *Store) sources(namespace, name string) (Sources, Options, error) {
	var src Sources
	var opts Options
	dir := s.Dir(namespace, name)
	if err := readJSONFile(filepath.Join(dir, "sources.json"), &src); err != nil {
		return src, opts, err
	}
	err := readJSONFile(filepath.Join(dir, "options.json"), &opts)
	return src, opts.withDefaults(), err
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// MarkLost settles the record of a pod whose supervisor died before the
// pod ended: phase Failed, reason SupervisorLost, running containers
// terminated (exit 137, as by SIGKILL). It reports whether it changed the
// record. Run it after runtime.GC has removed what the pod left.
func (s *Store) MarkLost(r *Record) (bool, error) {
	if r.SupervisorAlive || r.Status.Phase == corev1.PodSucceeded || r.Status.Phase == corev1.PodFailed {
		return false, nil
	}
	// A record whose supervisor has not started yet may be a moment old.
	if r.Supervisor.PID == 0 {
		if info, err := os.Stat(s.Dir(r.Pod.Namespace, r.Pod.Name)); err == nil && time.Since(info.ModTime()) < time.Minute {
			return false, nil
		}
	}
	now := metav1.NewTime(time.Now())
	st := r.Status.DeepCopy()
	st.Phase, st.Reason = corev1.PodFailed, "SupervisorLost"
	st.Message = "the pod's supervisor was killed; podsec gc removed what the pod left"
	for i := range st.ContainerStatuses {
		c := &st.ContainerStatuses[i]
		if c.State.Terminated == nil {
			c.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "SupervisorLost", FinishedAt: now}}
			c.Ready = false
		}
	}
	return true, atomicfile.WriteJSON(filepath.Join(s.Dir(r.Pod.Namespace, r.Pod.Name), "status.json"), st)
}
