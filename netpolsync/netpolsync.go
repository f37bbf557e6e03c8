// Package netpolsync keeps the node's NetworkPolicy dataplane in step with
// the stored policies and namespaces and the pods that run on the node.
// Every podsec command that changes one of them (a pod getting or losing
// its IP, apply or delete of a NetworkPolicy or Namespace, gc) calls Sync;
// a node-wide lock orders them, so the last Sync reflects the last change.
package netpolsync

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/podsec/podsec/internal/atomicfile"
	netdp "github.com/podsec/podsec/network/netpol"
	"github.com/podsec/podsec/policy/netpol"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/store"
)

// lockPath orders Syncs of every podsec process of the node.
const lockPath = "/run/podsec/netpol.lock"

// Snapshot is what the engine is built from.
type Snapshot struct {
	Input netpol.Input
	// NetNS maps a pod ("ns/name") to its network namespace path.
	NetNS map[string]string
}

// Load reads the stored policies and namespaces and the running pods (with
// their IPs) of a state root.
func Load(root string) (*Snapshot, error) {
	st, err := store.Open(root)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{NetNS: map[string]string{}}
	pols, err := st.List("networkpolicies", "")
	if err != nil {
		return nil, err
	}
	for _, o := range pols {
		snap.Input.Policies = append(snap.Input.Policies, o.(*networkingv1.NetworkPolicy))
	}
	nss, err := st.List("namespaces", "")
	if err != nil {
		return nil, err
	}
	for _, o := range nss {
		ns := o.(*corev1.Namespace)
		snap.Input.Namespaces = append(snap.Input.Namespaces, netpol.Namespace{Name: ns.Name, Labels: ns.Labels})
	}
	l := runtime.Layout{Root: root}
	nsDirs, _ := os.ReadDir(filepath.Join(root, "pods"))
	for _, nd := range nsDirs {
		pods, _ := os.ReadDir(filepath.Join(root, "pods", nd.Name()))
		for _, pd := range pods {
			if !l.PodAlive(nd.Name(), pd.Name()) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(l.PodDir(nd.Name(), pd.Name()), runtime.PodFile))
			if err != nil {
				continue // still starting: it syncs once it has its IP
			}
			var pod corev1.Pod
			if err := json.Unmarshal(b, &pod); err != nil {
				continue
			}
			ip, _ := netip.ParseAddr(pod.Status.PodIP)
			snap.Input.Pods = append(snap.Input.Pods, netpol.PodFromAPI(&pod, ip))
			// The pod's own network namespace, where its plan gave it one
			// (the sandbox bound it there); none on the node's network.
			if nsPath := l.NamespacePath(pod.Namespace, pod.Name, "net"); fileExists(nsPath) {
				snap.NetNS[pod.Namespace+"/"+pod.Name] = nsPath
			}
		}
	}
	return snap, nil
}

// TableFor is the nftables table of a state root's dataplane: the
// dataplane's default for the default root, a table of its own (named by
// a hash of the root) for any other, so that side-by-side podsec instances
// (and tests) never program each other's pods.
func TableFor(root string) string {
	if filepath.Clean(root) == runtime.DefaultRoot {
		return netdp.DefaultTable
	}
	h := fnv.New32a()
	h.Write([]byte(filepath.Clean(root)))
	return fmt.Sprintf("%s-%08x", netdp.DefaultTable, h.Sum32())
}

// Sync programs the dataplane (nftables table `table`, TableFor(root) when
// empty) from the state root, under the node-wide lock.
func Sync(root, table string) error {
	if table == "" {
		table = TableFor(root)
	}
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	snap, err := Load(root)
	if err != nil {
		return err
	}
	eng, err := netpol.New(snap.Input)
	if err != nil {
		return err
	}
	dp, err := dataplane(table)
	if err != nil {
		return err
	}
	if _, err := dp.Sync(eng.Compile()); err != nil {
		return fmt.Errorf("programming NetworkPolicies: %w", err)
	}
	return nil
}

// dataplanes are this process's dataplanes by table. A dataplane keeps
// what it programmed (and its netlink connection) between Syncs, so a
// long-lived process (a supervisor) syncs from memory while no other
// process changed the table, and reads it back once when one did.
var (
	dataplanesMu sync.Mutex
	dataplanes   = map[string]*netdp.Dataplane{}
)

func dataplane(table string) (*netdp.Dataplane, error) {
	dataplanesMu.Lock()
	defer dataplanesMu.Unlock()
	if dp := dataplanes[table]; dp != nil {
		return dp, nil
	}
	dp, err := netdp.New(netdp.Config{Table: table})
	if err != nil {
		return nil, err
	}
	dataplanes[table] = dp
	return dp, nil
}

func lock() (func(), error) {
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		return nil, err
	}
	return atomicfile.Lock(context.Background(), lockPath, true)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
