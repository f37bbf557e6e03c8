package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/spec"
)

func newValidateCommand(g *globals) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "check pod manifests and print every problem",
		Long: `validate decodes pod manifests strictly (an unknown field is an error), applies
the API server's defaults and prints every problem with its field path. It
exits non-zero when any pod is invalid. Sysctls are checked as this node's
kubelet would: its safe set, and the unsafe ones of --allowed-unsafe-sysctls.`,
		Example: `  # Check one manifest
  podsec validate -f pod.yaml

  # Check a manifest from standard input
  cat pods.yaml | podsec validate -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pods, err := readPods(cmd, files)
			if err != nil {
				return err
			}
			n, err := openNode(cmd, g)
			if err != nil {
				return err
			}
			facts, err := n.Facts()
			if err != nil {
				return err
			}
			if err := pipeline.ValidateOnNode(facts, pods...); err != nil {
				for _, sentinel := range []error{spec.ErrInvalidPod, pipeline.ErrNodeRefused} {
					if errors.Is(err, sentinel) {
						fmt.Fprintln(cmd.ErrOrStderr(), strings.TrimPrefix(err.Error(), sentinel.Error()+": "))
						return &exitError{code: 1}
					}
				}
				return err
			}
			for _, p := range pods {
				fmt.Fprintf(cmd.OutOrStdout(), "pod/%s valid\n", p.Name)
			}
			return nil
		},
	}
	addFileFlag(cmd, &files)
	addAllowedUnsafeSysctlsFlag(cmd, g)
	return cmd
}
