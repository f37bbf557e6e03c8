// Package runtime runs Kubernetes pods on this node through runc's
// libcontainer. It holds everything of podsec that touches the kernel:
// the pod sandbox, overlay root filesystems, volumes, cgroups and the state
// directory; the pure spec package decides what each container gets.
//
// Programs that embed podsec start from package node, not from here:
// node.Open gives the node in one call (the image store under
// <root>/images, whose "localhost/" images are never pulled, the stored
// objects, admission with its audit log, the node's checks and this
// runtime), node.Init is the re-execution hook for libcontainer and the
// pod sandbox, and (*node.Node).Run runs a decoded pod through the whole
// pipeline. examples/embed is such a program, built by its test as a
// module of its own.
//
// The Runtime here executes a plan (pipeline.Build) and does not admit:
// Run and Start take a pod that has been validated, admitted and checked
// against the node already (node.Prepare). Start gives more control:
// p, err := rt.Start(ctx, pod); p.Stop(grace); res := p.Wait();
// err = p.Cleanup(). When a pod ends, nothing of it is left: no mounts,
// overlays, volumes, namespaces, cgroups or state.
//
// New makes the calling process a child subreaper (as runc run does), so
// container processes whose intermediate parents exit come back to it.
package runtime
