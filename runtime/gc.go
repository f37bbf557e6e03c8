package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/network"
)

// Owner names a process: its PID and its start time (/proc/PID/stat field
// 22), so that a reused PID is not taken for it. A pod's owner is the
// podsec process that runs it.
type Owner struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"startTime"`
}

const ownerFile = "owner.json"

// pfExiting is the kernel's PF_EXITING task flag (include/linux/sched.h).
const pfExiting = 0x4

// SelfOwner is this process as an Owner.
func SelfOwner() (Owner, error) {
	st, err := processStartTime(os.Getpid())
	return Owner{PID: os.Getpid(), StartTime: st}, err
}

// Alive reports whether the owner process still runs.
func (o Owner) Alive() bool {
	st, err := processStartTime(o.PID)
	return err == nil && st == o.StartTime
}

// processStartTime reads a process's start time in clock ticks since boot.
func processStartTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields start
	// after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("reading /proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("reading /proc/%d/stat: malformed", pid)
	}
	// A zombie (or a dying task) runs no more, whoever has yet to reap it.
	if f[0] == "Z" || f[0] == "X" {
		return 0, fmt.Errorf("process %d has exited", pid)
	}
	// Nor does one in do_exit (PF_EXITING in the flags, field 9): a
	// SIGKILLed process closes its files (a waiter sees EOF on its pipe)
	// before it becomes a zombie, and shows "R" in between.
	if flags, err := strconv.ParseUint(f[6], 10, 64); err != nil || flags&pfExiting != 0 {
		return 0, fmt.Errorf("process %d is exiting", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// PodAlive reports whether a pod directory's owner (the podsec process
// that runs it) still runs. A pod without an owner record is not alive.
func (l Layout) PodAlive(namespace, name string) bool {
	b, err := os.ReadFile(filepath.Join(l.PodDir(namespace, name), ownerFile))
	if err != nil {
		return false
	}
	var o Owner
	return json.Unmarshal(b, &o) == nil && o.Alive()
}

// GC removes what dead pods left: pods whose owner process is gone (it was
// killed, or the node rebooted) keep mounts, overlays, namespaces, links,
// IP allocations, host ports, cgroups and state until GC. report is told
// each thing removed. Pods whose owner runs are never touched.
func GC(ctx context.Context, root string, nw *network.Manager, report func(string)) error {
	if report == nil {
		report = func(string) {}
	}
	l := Layout{Root: root}
	var errs []error
	nss, _ := os.ReadDir(filepath.Join(root, "pods"))
	for _, ns := range nss {
		if strings.HasPrefix(ns.Name(), ".") {
			// pods/.tmp: directories being created, each with its owner.
			gcTmp(filepath.Join(root, "pods", ns.Name()), report)
			continue
		}
		pods, _ := os.ReadDir(filepath.Join(root, "pods", ns.Name()))
		for _, pd := range pods {
			if l.PodAlive(ns.Name(), pd.Name()) {
				continue
			}
			if err := gcPod(ctx, l, ns.Name(), pd.Name(), nw, report); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// Containers whose pod directory is gone.
	ids, _ := os.ReadDir(filepath.Join(root, "libcontainer"))
	for _, id := range ids {
		parts := strings.SplitN(id.Name(), "_", 3)
		if len(parts) == 3 && l.PodAlive(parts[0], parts[1]) {
			continue
		}
		if _, err := os.Stat(l.PodDir(parts[0], safePart(parts, 1))); err == nil {
			continue
		}
		if err := destroyContainer(root, id.Name(), report); err != nil {
			errs = append(errs, err)
		}
	}
	// After the pods: a dead pod's range is free once nothing of it is left.
	if err := gcUserNS(l, report); err != nil {
		errs = append(errs, err)
	}
	if nw != nil {
		err := nw.GC(ctx, func(p network.PodRef) bool {
			_, err := os.Stat(l.PodDir(p.Namespace, p.Name))
			return err == nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// gcTmp removes pod directories left half made by a dead podsec.
func gcTmp(dir string, report func(string)) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), ownerFile))
		var o Owner
		if err == nil && json.Unmarshal(b, &o) == nil && o.Alive() {
			continue
		}
		if err != nil {
			// Without an owner yet, it may be a moment old and about to
			// get one.
			if info, ierr := e.Info(); ierr != nil || time.Since(info.ModTime()) < time.Minute {
				continue
			}
		}
		if err := removeAll(filepath.Join(dir, e.Name())); err == nil {
			report("half-made pod directory " + e.Name())
		}
	}
}

func safePart(parts []string, i int) string {
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// gcPod removes one dead pod: its containers' processes and cgroups, its
// network attachment, every mount below its directory, its cgroups and
// the directory itself.
func gcPod(ctx context.Context, l Layout, ns, name string, nw *network.Manager, report func(string)) error {
	var errs []error
	prefix := ns + "_" + name + "_"
	ids, _ := os.ReadDir(filepath.Join(l.Root, "libcontainer"))
	for _, id := range ids {
		if strings.HasPrefix(id.Name(), prefix) {
			if err := destroyContainer(l.Root, id.Name(), report); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if nw != nil {
		if _, err := nw.Get(network.PodRef{Namespace: ns, Name: name}); err == nil {
			if err := nw.Teardown(ctx, network.PodRef{Namespace: ns, Name: name}); err != nil {
				errs = append(errs, err)
			} else {
				report(fmt.Sprintf("network attachment of pod %s/%s", ns, name))
			}
		}
	}
	dir := l.PodDir(ns, name)
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		errs = append(errs, err)
	}
	// The deepest first, so a parent is unmounted after its children.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].Mountpoint) > len(mounts[j].Mountpoint) })
	for _, m := range mounts {
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", m.Mountpoint, err))
			continue
		}
		report("mount " + m.Mountpoint)
	}
	pod := &corev1.Pod{}
	pod.Namespace, pod.Name = ns, name
	if err := removePodCgroups(l, pod); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := removeAll(dir); err != nil {
		return err
	}
	report(fmt.Sprintf("pod %s/%s", ns, name))
	return nil
}

// destroyContainer kills what runs of a libcontainer container and
// removes its cgroup and state.
func destroyContainer(root, id string, report func(string)) error {
	state := filepath.Join(root, "libcontainer")
	c, err := libcontainer.Load(state, id)
	if err != nil {
		// Half made: no usable state. Remove the directory.
		if err := os.RemoveAll(filepath.Join(state, id)); err != nil {
			return err
		}
		report("container state " + id)
		return nil
	}
	_ = c.Signal(unix.SIGKILL)
	// The kill is asynchronous: wait (bounded) until nothing runs.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := c.Status(); err != nil || st == libcontainer.Stopped {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.Destroy(); err != nil {
		return fmt.Errorf("destroying container %s: %w", id, err)
	}
	report("container " + id)
	return nil
}
