package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/spec"
)

// addAllowedUnsafeSysctlsFlag adds the kubelet's --allowed-unsafe-sysctls to
// a command that decides what runs on this node.
func addAllowedUnsafeSysctlsFlag(cmd *cobra.Command, g *globals) {
	cmd.Flags().StringSliceVar(&g.allowedUnsafeSysctls, "allowed-unsafe-sysctls", nil,
		"unsafe sysctls (names, or prefixes ending in *: 'net.core.*,kernel.msg*') a pod may set on this node besides the kubelet's safe set")
}

// nodeSysctls is the node's sysctl allowlist for its kernel and
// --allowed-unsafe-sysctls.
func nodeSysctls(g *globals) (*spec.SysctlAllowlist, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, fmt.Errorf("reading the kernel release: %w", err)
	}
	return spec.NewSysctlAllowlist(unix.ByteSliceToString(u.Release[:]), g.allowedUnsafeSysctls)
}

// validatePodsOnNode validates the pods as validatePods does, then, for a
// pod the API server would accept, applies the check the kubelet applies
// before it runs a pod: its sysctl allowlist. Admission (podsec admit, the
// webhook) does not: it is not the node's decision.
func validatePodsOnNode(g *globals, pods []*corev1.Pod) error {
	allow, err := nodeSysctls(g)
	if err != nil {
		return err
	}
	return validatePodsWith(pods, allow.ValidatePod)
}
