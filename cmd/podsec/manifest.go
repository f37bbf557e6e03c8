package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/spec"
)

// addFileFlag adds the repeatable -f/--filename flag of commands that read
// manifests.
func addFileFlag(cmd *cobra.Command, files *[]string) {
	cmd.Flags().StringArrayVarP(files, "filename", "f", nil, "manifest to read (YAML or JSON, one or many documents); - reads standard input")
	_ = cmd.MarkFlagRequired("filename")
}

// readPods decodes and defaults every pod of the named manifests. The
// ConfigMaps and Secrets beside them are read, checked and left out.
func readPods(cmd *cobra.Command, files []string) ([]*corev1.Pod, error) {
	objs, err := readObjects(cmd, files)
	if err != nil {
		return nil, err
	}
	return objs.Pods, nil
}

// readObjects decodes the pods, ConfigMaps and Secrets of the manifests.
func readObjects(cmd *cobra.Command, files []string) (*spec.Objects, error) {
	all := &spec.Objects{}
	var errs []error
	for _, f := range files {
		o, err := readPodFile(cmd.InOrStdin(), f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all.Pods = append(all.Pods, o.Pods...)
		all.ConfigMaps = append(all.ConfigMaps, o.ConfigMaps...)
		all.Secrets = append(all.Secrets, o.Secrets...)
	}
	return all, errors.Join(errs...)
}

func readPodFile(stdin io.Reader, name string) (*spec.Objects, error) {
	r, label := stdin, "<stdin>"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("reading manifest: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("reading manifest %q: is a directory", name)
		}
		r, label = f, name
	}
	objs, err := spec.DecodeObjects(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", label, indent(err.Error()))
	}
	return objs, nil
}

// validatePods validates every pod and returns one error listing all
// problems of all pods, as the API server words them.
func validatePods(pods []*corev1.Pod) error { return validatePodsWith(pods, nil) }

// validatePodsWith is validatePods with, when node is not nil, the node's
// own check of each pod the API server's rules accept (as the kubelet
// checks only pods the API server stored).
func validatePodsWith(pods []*corev1.Pod, node func(*corev1.Pod) field.ErrorList) error {
	selinux, apparmor := runtime.LSMs()
	opts := spec.ValidateOptions{SELinuxEnabled: selinux, AppArmorEnabled: apparmor}
	var msgs []string
	for _, p := range pods {
		errs := spec.ValidatePod(p, opts)
		if len(errs) == 0 && node != nil {
			errs = node(p)
		}
		if len(errs) > 0 {
			msgs = append(msgs, invalidMessage(p, errs))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%w: %s", spec.ErrInvalidPod, strings.Join(msgs, "\n"))
	}
	return nil
}

// invalidMessage is the API server's wording for an invalid object.
func invalidMessage(p *corev1.Pod, errs field.ErrorList) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The Pod %q is invalid:", p.Name)
	for _, e := range errs {
		fmt.Fprintf(&b, "\n* %s", e.Error())
	}
	return b.String()
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }
