package main

import (
	"github.com/spf13/cobra"
)

// addAllowedUnsafeSysctlsFlag adds the kubelet's --allowed-unsafe-sysctls to
// a command that decides what runs on this node.
func addAllowedUnsafeSysctlsFlag(cmd *cobra.Command, g *globals) {
	cmd.Flags().StringSliceVar(&g.allowedUnsafeSysctls, "allowed-unsafe-sysctls", nil,
		"unsafe sysctls (names, or prefixes ending in *: 'net.core.*,kernel.msg*') a pod may set on this node besides the kubelet's safe set")
}
