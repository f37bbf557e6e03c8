package runtime

import (
	"fmt"
	"os"
	"path"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
)

// runOptions are what a pod is run with besides the pod: what its plan
// is built from.
type runOptions struct {
	objects   pipeline.Objects
	admission pipeline.Admission
}

// RunOption adds to how a pod is run.
type RunOption func(*runOptions)

// WithConfigMaps gives the pod's configMap volumes their data (the plan's
// pipeline.Objects).
func WithConfigMaps(cms ...*corev1.ConfigMap) RunOption {
	return func(o *runOptions) { o.objects.ConfigMaps = append(o.objects.ConfigMaps, cms...) }
}

// WithAdmission records in the pod's plan what admission decided and
// changed (pipeline.Admit).
func WithAdmission(a pipeline.Admission) RunOption {
	return func(o *runOptions) { o.admission = a }
}

// WithSecrets gives the pod's secret volumes their data (the plan's
// pipeline.Objects).
func WithSecrets(secs ...*corev1.Secret) RunOption {
	return func(o *runOptions) { o.objects.Secrets = append(o.objects.Secrets, secs...) }
}

// writeProjected writes the plan's files of a configMap, secret or
// downwardAPI volume (pipeline.Volume.Files) into dir, each with the mode
// the plan gives it, through an os.Root, so no path of a file can lead
// out of the volume, even through a symlink.
func writeProjected(dir string, files []pipeline.File) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range files {
		if d := path.Dir(f.Path); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("writing %s: %w", f.Path, err)
			}
		}
		fh, err := root.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		_, werr := fh.Write(f.Data)
		cerr := fh.Chmod(f.Mode)
		if err := fh.Close(); werr != nil || cerr != nil || err != nil {
			return fmt.Errorf("writing %s: %v %v %v", f.Path, werr, cerr, err)
		}
	}
	return nil
}
