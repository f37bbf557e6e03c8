package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// removePodCgroups removes the pod's cgroup directory in every hierarchy
// (v1 controllers, the unified mount, or a pure v2 tree) once libcontainer
// has removed the containers' own.
func removePodCgroups(l Layout, pod *corev1.Pod) error {
	rel := podCgroupPath(l, pod)
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", rel))
	if st, err := os.Stat(filepath.Join(cgroupRoot, rel)); err == nil && st.IsDir() {
		dirs = append(dirs, filepath.Join(cgroupRoot, rel))
	}
	var errs []error
	for _, d := range dirs {
		if err := rmdirRetry(d); err != nil {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
		}
	}
	// Another state root's parent goes with its last pod (the rmdir of
	// a parent still holding pods fails, and createPodCgroup retries when
	// it loses that race); the default root's stays, as /podsec did.
	if len(errs) == 0 && filepath.Dir(rel) != pipeline.CgroupParent(DefaultRoot) {
		for _, d := range dirs {
			_ = os.Remove(filepath.Dir(d))
		}
	}
	return errors.Join(errs...)
}

// rmdirRetry removes an empty cgroup, waiting briefly for the kernel to
// let go of exited tasks (EBUSY).
// The wait starts short, as the tasks usually go within a millisecond,
// and grows to 10 ms, for half a second in all.
func rmdirRetry(d string) error {
	var err error
	delay, waited := 250*time.Microsecond, time.Duration(0)
	for waited < 500*time.Millisecond {
		if err = os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(delay)
		waited += delay
		delay = min(2*delay, 10*time.Millisecond)
	}
	return err
}
