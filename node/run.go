package node

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/runtime"
)

// RunOptions are a pod's requester and the objects its volumes read.
type RunOptions struct {
	// Admit is who asks (admission) and whether the decision is logged.
	Admit AdmitOptions
	// ConfigMaps and Secrets fill the pod's configMap and secret volumes
	// (a node has no API server to ask).
	ConfigMaps []*corev1.ConfigMap
	Secrets    []*corev1.Secret
}

func (o RunOptions) objects() pipeline.Objects {
	return pipeline.Objects{ConfigMaps: o.ConfigMaps, Secrets: o.Secrets}
}

// Run runs a decoded, defaulted pod (spec.DecodeObjects) in the
// foreground through the whole pipeline: Prepare (validation, admission,
// the node's checks), then the runtime runs the admitted pod until its
// containers end or ctx ends (the pod is then stopped with its grace
// period). Nothing of the pod is left afterwards.
func (n *Node) Run(ctx context.Context, pod *corev1.Pod, opts RunOptions) (runtime.Result, error) {
	a, err := n.Prepare(pod, opts.Admit)
	if err != nil {
		return runtime.Result{ExitCode: 1}, err
	}
	return n.RunAdmitted(ctx, a, opts)
}

// RunAdmitted runs a pod Prepare accepted, as Run does.
func (n *Node) RunAdmitted(ctx context.Context, a *Admitted, opts RunOptions) (runtime.Result, error) {
	rt, err := n.Runtime()
	if err != nil {
		return runtime.Result{ExitCode: 1}, err
	}
	return rt.Run(ctx, a.Pod, runtime.WithConfigMaps(opts.ConfigMaps...), runtime.WithSecrets(opts.Secrets...),
		runtime.WithAdmission(a.Admission()))
}
