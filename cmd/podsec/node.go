package main

import (
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/internal/term"
	"github.com/podsec/podsec/node"
)

// openNode is the node of the command's flags. Containers' output goes to
// the command's stdout, events (which quote the pod: escaped), admission
// warnings and pull progress to its stderr.
func openNode(cmd *cobra.Command, g *globals) (*node.Node, error) {
	cfg := node.Config{
		Root: g.root, SeccompProfileRoot: g.seccompProfileRoot, SeccompDefault: corev1.SeccompProfileType(g.seccompDefault),
		PidsLimit: g.podPidsLimit, AllowedUnsafeSysctls: g.allowedUnsafeSysctls, HousekeepingInterval: g.housekeepingInterval,
		ImageLimits: g.imageLimits, RestartBackoff: g.backoffBase, UserNSBase: g.userNSBase,
		Output: cmd.OutOrStdout(), Events: term.NewWriter(cmd.ErrOrStderr()), Warnings: cmd.ErrOrStderr(), Progress: cmd.ErrOrStderr(),
	}
	if g.podNetwork != "none" {
		cfg.CNI = &node.CNI{ConfDir: g.cniConfDir, BinDirs: g.cniBinDirs, NetpolTable: g.netpolTable}
	}
	return node.Open(cfg)
}
