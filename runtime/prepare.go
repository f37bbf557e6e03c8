package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/spec"
)

// rootfsPrep is a container's image and root filesystem, made before the
// rest of its start: the image ensured, its directory made, its overlay
// mounted and the image's user database read.
type rootfsPrep struct {
	name   string
	img    *Image
	dir    string // made, when not ""
	rootfs string // mounted, when not ""
	userNS *podUserNS
	users  *spec.UserDB
	err    error
	done   chan struct{}
}

// prepareRootfs ensures c's image and mounts its root filesystem. What it
// made is in the result whatever its error, for the caller to clean up.
func (p *Pod) prepareRootfs(ctx context.Context, c *corev1.Container) *rootfsPrep {
	r, pod := p.rt, p.pod
	prep := &rootfsPrep{name: c.Name}
	img, err := r.cfg.Images.Ensure(ctx, c.Image, c.ImagePullPolicy)
	if err != nil {
		prep.err = fmt.Errorf("container %q: %w", c.Name, err)
		return prep
	}
	prep.img = img
	dir := r.layout.ContainerDir(pod.Namespace, pod.Name, c.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		prep.err = fmt.Errorf("container %q: %w", c.Name, err)
		return prep
	}
	prep.dir = dir
	if pc, err := p.plan.Container(c.Name); err == nil && pc.Paths.UserNS != nil {
		prep.userNS = &podUserNS{path: pc.Paths.UserNSPath, rootID: int(pc.Paths.UserNS.HostID)}
		// libcontainer mounts the rootfs from inside the pod's user
		// namespace: the pod's root group may walk to it (0710), no one
		// else of the node may, and the pod owns nothing on the way that
		// it could rename under podsec.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chown(d, 0, prep.userNS.rootID); err != nil {
				prep.err = fmt.Errorf("container %q: %w", c.Name, err)
				return prep
			}
			if err := os.Chmod(d, 0o710); err != nil {
				prep.err = fmt.Errorf("container %q: %w", c.Name, err)
				return prep
			}
		}
	}
	if prep.rootfs, prep.err = mountRootfs(dir, img.Layers, prep.userNS); prep.err != nil {
		prep.err = fmt.Errorf("container %q: %w", c.Name, prep.err)
		return prep
	}
	if prep.users, prep.err = readUserDB(prep.rootfs); prep.err != nil {
		prep.err = fmt.Errorf("container %q: %w", c.Name, prep.err)
	}
	return prep
}

// pendingPrep is a root filesystem being prepared in the background.
type pendingPrep struct {
	name string
	done chan struct{}
	res  *rootfsPrep // set before done is closed
}

// prepareFirst starts preparing the root filesystem of the pod's first
// container while its sandbox starts (the image and the overlay need
// nothing of the sandbox): startContainer takes it (takePrepared), and
// Cleanup undoes it if no container did (dropPrepared). A pod with a
// user namespace is left out: its overlay is mounted through the
// sandbox's namespace.
func (p *Pod) prepareFirst(ctx context.Context) {
	first := p.pod.Spec.InitContainers
	if len(first) == 0 {
		first = p.pod.Spec.Containers
	}
	if len(first) == 0 || p.plan.UserNS != nil {
		return
	}
	c := &first[0]
	if pc, err := p.plan.Container(c.Name); err != nil || pc.Paths.UserNS != nil {
		return
	}
	pre := &pendingPrep{name: c.Name, done: make(chan struct{})}
	p.pre = pre
	go func() {
		pre.res = p.prepareRootfs(ctx, c)
		close(pre.done)
	}()
}

// takePrepared returns the prepared root filesystem of container name at
// its first start, once it is ready; nil when none was prepared for it.
func (p *Pod) takePrepared(name string, attempt int) *rootfsPrep {
	pre := p.pre
	if pre == nil || pre.name != name || attempt != 0 {
		return nil
	}
	<-pre.done
	p.pre = nil
	return pre.res
}

// dropPrepared undoes a root filesystem prepared for a container that
// never started.
func (p *Pod) dropPrepared() error {
	pre := p.pre
	if pre == nil {
		return nil
	}
	<-pre.done
	p.pre = nil
	if pre.res.dir == "" {
		return nil
	}
	if err := unmountRootfs(pre.res.dir); err != nil {
		return err
	}
	return removeAll(pre.res.dir)
}
