// Package runtime runs Kubernetes pods on this node through runc's
// libcontainer. It holds everything of podsec that touches the kernel:
// the pod sandbox, overlay root filesystems, volumes, cgroups and the state
// directory; the pure spec package decides what each container gets.
//
// Container tooling can embed it. The program must let libcontainer and
// the pod sandbox re-execute it, from an init function that runs before
// anything else, and keep its main goroutine on the main thread:
//
//	func init() {
//		if len(os.Args) > 1 && os.Args[1] == "init" {
//			runtime.GOMAXPROCS(1)
//			runtime.LockOSThread()
//			libcontainer.Init()
//		}
//		if len(os.Args) > 1 && os.Args[1] == podsecruntime.SandboxArg {
//			podsecruntime.SandboxMain()
//		}
//		runtime.LockOSThread()
//	}
//
// with blank imports of github.com/opencontainers/runc/libcontainer/nsenter
// and github.com/opencontainers/cgroups/devices. Then:
//
//	rt, err := podsecruntime.New(podsecruntime.Config{
//		Root:   "/var/lib/podsec",
//		Images: images, // an ImageSource, e.g. podsec's image store
//		Output: os.Stdout,
//	})
//	if err != nil { ... }
//	// pod is a decoded, defaulted and validated *corev1.Pod (package spec).
//	res, err := rt.Run(ctx, pod) // Start, Wait, Cleanup; ctx ends it
//
// or, for more control, p, err := rt.Start(ctx, pod); p.Stop(grace);
// res := p.Wait(); err = p.Cleanup(). When a pod ends, nothing of it is
// left: no mounts, overlays, volumes, namespaces, cgroups or state.
//
// New makes the calling process a child subreaper (as runc run does), so
// container processes whose intermediate parents exit come back to it.
package runtime
