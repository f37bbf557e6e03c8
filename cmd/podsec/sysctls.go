package main

import (
	"path/filepath"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/runtime"
)

// addAllowedUnsafeSysctlsFlag adds the kubelet's --allowed-unsafe-sysctls to
// a command that decides what runs on this node.
func addAllowedUnsafeSysctlsFlag(cmd *cobra.Command, g *globals) {
	cmd.Flags().StringSliceVar(&g.allowedUnsafeSysctls, "allowed-unsafe-sysctls", nil,
		"unsafe sysctls (names, or prefixes ending in *: 'net.core.*,kernel.msg*') a pod may set on this node besides the kubelet's safe set")
}

// nodeFacts is this node as the pipeline sees it, with the command's flags.
func nodeFacts(g *globals) (*pipeline.Node, error) {
	root, err := filepath.Abs(g.root)
	if err != nil {
		return nil, err
	}
	return runtime.NodeFacts(runtime.NodeConfig{Root: root, SeccompProfileRoot: g.seccompProfileRoot,
		SeccompDefault: corev1.SeccompProfileType(g.seccompDefault), PidsLimit: g.podPidsLimit,
		AllowedUnsafeSysctls: g.allowedUnsafeSysctls})
}
