package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
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

// validatePods validates every pod by the API server's rules and returns
// one error listing all problems of all pods, as the API server words them.
func validatePods(pods []*corev1.Pod) error { return pipeline.Validate(pods...) }

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }
