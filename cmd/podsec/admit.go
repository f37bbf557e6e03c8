package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/node"
	"github.com/podsec/podsec/policy/psp"
)

func newAdmitCommand(g *globals) *cobra.Command {
	var files []string
	var as string
	var asGroups []string
	var output string
	cmd := &cobra.Command{
		Use:   "admit -f POD.yaml [--as USER] [--as-group GROUP]",
		Short: "dry-run the admission of pods: PodSecurityPolicy, then the Pod Security Standards",
		Long: `admit decides, without running anything, whether the pods of a manifest would be
admitted, as a Kubernetes 1.24 API server with the PodSecurityPolicy and
PodSecurity admission plugins would, using the objects stored by "podsec apply":

  1. PodSecurityPolicy (when at least one policy is stored): the policies the
     requester or the pod's service account may "use" (RBAC) are tried in name
     order; the first that admits the pod unchanged wins, otherwise the first
     that admits it with its defaults. The pod is annotated kubernetes.io/psp.
  2. The Pod Security Standards of the pod's namespace labels
     (pod-security.kubernetes.io/enforce, warn, audit), on the pod as
     PodSecurityPolicy changed it.

An admitted pod is printed with its defaults and annotation, and the policy
that admitted it on standard error; warnings are printed on standard error as
kubectl prints them. Every decision, with the audit annotations (audit-mode
violations among them), is appended to <root>/audit.log as a JSON line. admit
exits non-zero when any pod is refused.

The requester is --as and --as-group, as kubectl impersonation; by default the
Unix user running podsec, in group system:authenticated.`,
		Example: `  # Which policy admits the pod, and with which defaults?
  podsec admit -f pod.yaml

  # As a user of group "devs"
  podsec admit -f pod.yaml --as alice --as-group devs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "yaml" && output != "json" {
				return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json,yaml", output)
			}
			pods, err := readPods(cmd, files)
			if err != nil {
				return err
			}
			if err := validatePods(pods); err != nil {
				return err
			}
			n, err := openNode(cmd, g)
			if err != nil {
				return err
			}
			var admitted []*corev1.Pod
			var errs []error
			for _, p := range pods {
				res, err := n.Admit(p, node.AdmitOptions{As: as, AsGroups: asGroups})
				if err != nil {
					errs = append(errs, err)
					continue
				}
				a := res.Pod
				if name := a.Annotations[psp.ValidatedPSPAnnotation]; name != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "pod/%s admitted by podsecuritypolicy %q\n", a.Name, name)
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "pod/%s admitted (no PodSecurityPolicy stored)\n", a.Name)
				}
				admitted = append(admitted, a)
			}
			if err := printPods(cmd.OutOrStdout(), output, admitted); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
	addFileFlag(cmd, &files)
	addRequesterFlags(cmd, &as, &asGroups)
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

// addRequesterFlags adds kubectl's impersonation flags.
func addRequesterFlags(cmd *cobra.Command, as *string, asGroups *[]string) {
	cmd.Flags().StringVar(as, "as", "", "user to admit the pod as (default: the Unix user running podsec)")
	cmd.Flags().StringArrayVar(asGroups, "as-group", nil, "group to admit the pod as; repeat for several; needs --as")
}

// printPods prints pods as YAML documents or JSON, a v1 List for several.
func printPods(w io.Writer, format string, pods []*corev1.Pod) error {
	for _, p := range pods {
		p.APIVersion, p.Kind = "v1", "Pod"
	}
	if len(pods) == 0 {
		return nil
	}
	var data []byte
	var err error
	switch {
	case format == "json" && len(pods) == 1:
		data, err = json.MarshalIndent(pods[0], "", "    ")
		data = append(data, '\n')
	case format == "json":
		data, err = json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": pods, "metadata": map[string]string{"resourceVersion": ""}}, "", "    ")
		data = append(data, '\n')
	default:
		var docs []string
		for _, p := range pods {
			b, merr := yaml.Marshal(p)
			if merr != nil {
				return fmt.Errorf("printing pod %q: %w", p.Name, merr)
			}
			docs = append(docs, string(b))
		}
		data = []byte(strings.Join(docs, "---\n"))
	}
	if err != nil {
		return fmt.Errorf("printing pods: %w", err)
	}
	_, err = w.Write(data)
	return err
}
