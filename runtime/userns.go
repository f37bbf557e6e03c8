package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/internal/atomicfile"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/spec"
)

// userNSRecord is one range of host IDs held by a pod with hostUsers:
// false, kept as <root>/userns/<first host ID>.json from before the pod's
// sandbox exists until the pod is gone, as the kubelet keeps each pod's
// mapping in its pod directory. Its owner is the podsec process that runs
// the pod: a range whose owner is dead is freed by GC once nothing of its
// pod is left.
type userNSRecord struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
	Owner     Owner  `json:"owner"`
	HostID    uint32 `json:"hostID"`
	Size      uint32 `json:"size"`
}

// userNSDir holds the node's range records and their lock.
func (l Layout) userNSDir() string { return filepath.Join(l.Root, "userns") }

func (l Layout) userNSRecord(hostID uint32) string {
	return filepath.Join(l.userNSDir(), strconv.FormatUint(uint64(hostID), 10)+".json")
}

// lockUserNS takes the node's lock on its ranges.
func (l Layout) lockUserNS() (func(), error) {
	if err := os.MkdirAll(l.userNSDir(), 0o700); err != nil {
		return nil, fmt.Errorf("creating user namespace records: %w", err)
	}
	unlock, err := atomicfile.Lock(nil, filepath.Join(l.userNSDir(), ".lock"), true)
	if err != nil {
		return nil, fmt.Errorf("locking user namespace records: %w", err)
	}
	return unlock, nil
}

// userNSRecords reads every range record; unreadable ones are reported
// with a zero record so their slot stays taken.
func (l Layout) userNSRecords() (map[string]userNSRecord, error) {
	ents, err := os.ReadDir(l.userNSDir())
	if err != nil {
		return nil, fmt.Errorf("reading user namespace records: %w", err)
	}
	out := map[string]userNSRecord{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		var rec userNSRecord
		b, err := os.ReadFile(filepath.Join(l.userNSDir(), e.Name()))
		if err == nil {
			err = json.Unmarshal(b, &rec)
		}
		if err != nil {
			id, perr := strconv.ParseUint(strings.TrimSuffix(e.Name(), ".json"), 10, 32)
			if perr != nil {
				continue
			}
			rec = userNSRecord{HostID: uint32(id), Size: pipeline.UserNSSize}
		}
		out[e.Name()] = rec
	}
	return out, nil
}

// allocUserNS gives a pod with hostUsers: false a range of host IDs that
// no other pod of the node holds: the pod's preferred slot
// (pipeline.UserNSRange) when it is free, the next free one otherwise.
// The record is written before the function returns, under the node's
// lock, so two podsec processes never get the same range.
func (r *Runtime) allocUserNS(pod *corev1.Pod) (*spec.IDRange, error) {
	l, base := r.layout, r.node.UserNSBase
	if err := checkUserNSReach(l.Root); err != nil {
		return nil, err
	}
	unlock, err := l.lockUserNS()
	if err != nil {
		return nil, err
	}
	defer unlock()
	recs, err := l.userNSRecords()
	if err != nil {
		return nil, err
	}
	used := map[uint32]bool{}
	for _, rec := range recs {
		for id := rec.HostID / pipeline.UserNSSize; uint64(id)*pipeline.UserNSSize < uint64(rec.HostID)+uint64(max(rec.Size, 1)); id++ {
			used[id] = true
		}
	}
	owner, err := SelfOwner()
	if err != nil {
		return nil, fmt.Errorf("allocating a user namespace range: %w", err)
	}
	first, end := pipeline.UserNSSlots(base)
	pref := pipeline.UserNSRange(pod.Namespace, pod.Name, base).HostID / pipeline.UserNSSize
	n := end - first
	for i := range n {
		slot := first + (pref-first+i)%n
		if used[slot] {
			continue
		}
		rng := spec.IDRange{HostID: slot * pipeline.UserNSSize, Size: pipeline.UserNSSize}
		rec := userNSRecord{Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID), Owner: owner, HostID: rng.HostID, Size: rng.Size}
		if err := atomicfile.WriteJSON(l.userNSRecord(rng.HostID), rec); err != nil {
			return nil, fmt.Errorf("recording the pod's user namespace range: %w", err)
		}
		return &rng, nil
	}
	return nil, fmt.Errorf("spec.hostUsers: no free range of %d host IDs for the pod's user namespace: the node's %d ranges above %d are all held", pipeline.UserNSSize, n, first*pipeline.UserNSSize)
}

// checkUserNSReach makes sure the pod's root, a user of no group of the
// node, can walk to the state root: libcontainer mounts a container's
// rootfs from inside the pod's user namespace.
func checkUserNSReach(root string) error {
	for d := root; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("spec.hostUsers: %w", err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("spec.hostUsers: the pod's user namespace cannot reach the state root %s: %s has mode %04o, not searchable by others (chmod o+x)", root, d, st.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// releaseUserNS frees a range this process holds for pod; a record of
// another pod or owner is left alone.
func (l Layout) releaseUserNS(pod *corev1.Pod, rng *spec.IDRange) error {
	unlock, err := l.lockUserNS()
	if err != nil {
		return err
	}
	defer unlock()
	path := l.userNSRecord(rng.HostID)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var rec userNSRecord
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err != nil {
		return fmt.Errorf("reading user namespace record: %w", err)
	}
	self, _ := SelfOwner()
	if rec.Namespace != pod.Namespace || rec.Name != pod.Name || rec.Owner != self {
		return nil
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("freeing the pod's user namespace range: %w", err)
	}
	return nil
}

// gcUserNS frees the ranges of pods that are gone: the record's owner is
// dead and nothing of its pod is left (a pod GC could not remove keeps its
// range, since its processes may still run with those IDs).
func gcUserNS(l Layout, report func(string)) error {
	if _, err := os.Stat(l.userNSDir()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := l.lockUserNS()
	if err != nil {
		return err
	}
	defer unlock()
	recs, err := l.userNSRecords()
	if err != nil {
		return err
	}
	var errs []error
	for file, rec := range recs {
		if rec.Owner.PID != 0 && rec.Owner.Alive() {
			continue
		}
		if rec.Name != "" {
			if _, err := os.Stat(l.PodDir(rec.Namespace, rec.Name)); err == nil && !l.PodAlive(rec.Namespace, rec.Name) {
				continue
			}
		}
		if err := os.Remove(filepath.Join(l.userNSDir(), file)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("freeing user namespace range %d: %w", rec.HostID, err))
			continue
		}
		report(fmt.Sprintf("user namespace range %d-%d of pod %s/%s", rec.HostID, uint64(rec.HostID)+uint64(rec.Size)-1, rec.Namespace, rec.Name))
	}
	return errors.Join(errs...)
}
