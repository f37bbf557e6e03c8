// Package node is a podsec node in one constructor, for the podsec
// command and for programs that embed podsec. Open takes a state root and
// the node's settings; the Node keeps everything under that root where
// the podsec command keeps it (images under <root>/images, the objects of
// podsec apply, the audit log, the pods' state) and runs a pod through
// the one pipeline (package pipeline): the API server's validation,
// admission (PodSecurityPolicy with RBAC, then the Pod Security
// Standards, with the stored objects), this node's checks, the plan, and
// the runtime that executes it.
//
// A program that embeds podsec re-executes itself for libcontainer and
// the pod sandbox (see package runtime), then:
//
//	n, err := node.Open(node.Config{Root: "/var/lib/podsec", Output: os.Stdout})
//	if err != nil { ... }
//	defer n.Close(ctx)
//	objs, err := spec.DecodeObjects(manifest) // decoded and defaulted
//	if err != nil { ... }
//	res, err := n.Run(ctx, objs.Pods[0], node.RunOptions{ConfigMaps: objs.ConfigMaps, Secrets: objs.Secrets})
//
// Detached pods (podsec run -d) are recorded with RecordDetached for a
// supervisor (package supervisor) and stopped with StopPod or DeletePods.
//
// Images of the "localhost/" registry are the node's own (image.LocalRegistry):
// they are never pulled, whatever the pull policy.
package node
