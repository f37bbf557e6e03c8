package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/policy/admission"
	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/rbac"
	"github.com/podsec/podsec/store"
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
			var admitted []*corev1.Pod
			var errs []error
			for _, p := range pods {
				res, err := admitPod(cmd, g, p, as, asGroups)
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

// admitPod runs the admission of a pod created by the requester --as and
// --as-group with the objects stored under the state root (pipeline.Admit,
// as the webhook does). It prints the warnings on stderr, logs the
// decision to <root>/audit.log and returns the admission's result, whose
// Pod has the PodSecurityPolicy defaults applied.
func admitPod(cmd *cobra.Command, g *globals, pod *corev1.Pod, as string, asGroups []string) (admission.Result, error) {
	return admitPodAudited(cmd, g, pod, as, asGroups, true)
}

func admitPodAudited(cmd *cobra.Command, g *globals, pod *corev1.Pod, as string, asGroups []string, audit bool) (admission.Result, error) {
	requester, err := pipeline.Requester(currentUser(), as, asGroups)
	if err != nil {
		return admission.Result{}, err
	}
	st, err := store.Open(g.root)
	if err != nil {
		return admission.Result{}, err
	}
	snap, err := st.Snapshot()
	if err != nil {
		return admission.Result{}, err
	}
	res := pipeline.Admit(admission.Request{Pod: pod, User: requester, Operation: admission.Create}, objectsOf(snap))
	for _, w := range res.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s\n", w)
	}
	if audit {
		if err := appendAudit(g.root, requester, pod, res); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %v\n", err)
		}
	}
	if !res.Allowed {
		return res, res.Err
	}
	return res, nil
}

// admissionOf is what the plan records of an admission.
func admissionOf(given *corev1.Pod, res admission.Result) pipeline.Admission {
	a := pipeline.Admission{Policy: res.Policy, Warnings: res.Warnings}
	if patch, err := admission.Patch(given, res.Pod); err == nil {
		a.Patch = patch
	}
	return a
}

// objectsOf gives admission the stored objects it decides with.
func objectsOf(snap *store.Snapshot) admission.Objects {
	labels := make(map[string]map[string]string, len(snap.Namespaces))
	for name, ns := range snap.Namespaces {
		labels[name] = ns.Labels
	}
	return admission.Objects{PodSecurityPolicies: snap.PodSecurityPolicies, RBAC: snap.RBAC, NamespaceLabels: labels}
}

// currentUser is the Unix user name running podsec, or its uid when the
// user database has no entry (as in many containers).
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// auditEntry is one line of <root>/audit.log.
type auditEntry struct {
	Time        time.Time         `json:"time"`
	Operation   string            `json:"operation"`
	User        string            `json:"user"`
	Groups      []string          `json:"groups,omitempty"`
	Namespace   string            `json:"namespace"`
	Pod         string            `json:"pod"`
	Allowed     bool              `json:"allowed"`
	Reason      string            `json:"reason,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// appendAudit logs an admission decision, which is where the audit mode of
// the Pod Security Standards reports.
func appendAudit(root string, requester rbac.UserInfo, pod *corev1.Pod, res admission.Result) error {
	e := auditEntry{Time: time.Now().UTC(), Operation: string(admission.Create), User: requester.Name, Groups: requester.Groups,
		Namespace: pod.Namespace, Pod: pod.Name, Allowed: res.Allowed, Annotations: res.AuditAnnotations}
	if res.Err != nil {
		e.Reason = res.Err.Error()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(root, "audit.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	return nil
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
