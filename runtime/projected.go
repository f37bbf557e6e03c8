package runtime

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
)

// Sources are the objects a pod's configMap and secret volumes are filled
// from: the ConfigMaps and Secrets given with the pod (a node has no API
// server to ask).
type Sources struct {
	ConfigMaps []*corev1.ConfigMap
	Secrets    []*corev1.Secret

	admission pipeline.Admission
}

// RunOption adds to how a pod is run.
type RunOption func(*Sources)

// WithConfigMaps gives the pod's configMap volumes their data.
func WithConfigMaps(cms ...*corev1.ConfigMap) RunOption {
	return func(s *Sources) { s.ConfigMaps = append(s.ConfigMaps, cms...) }
}

// WithAdmission records in the pod's plan what admission decided and
// changed (pipeline.Admit).
func WithAdmission(a pipeline.Admission) RunOption {
	return func(s *Sources) { s.admission = a }
}

// WithSecrets gives the pod's secret volumes their data.
func WithSecrets(secs ...*corev1.Secret) RunOption {
	return func(s *Sources) { s.Secrets = append(s.Secrets, secs...) }
}

// defaultVolumeMode is the mode of a projected file when the pod names none.
const defaultVolumeMode = 0o644

// volumeFile is one file of a configMap, secret or downwardAPI volume.
type volumeFile struct {
	path string
	data []byte
	mode os.FileMode
}

// projectedFiles computes the files of a configMap, secret or downwardAPI
// volume, as the kubelet does: every key (or only the items), each with
// the item's mode or defaultMode. A missing object or key is an error
// unless the source is optional.
func projectedFiles(pod *corev1.Pod, vol *corev1.Volume, src *Sources) ([]volumeFile, error) {
	switch {
	case vol.ConfigMap != nil:
		cm := vol.ConfigMap
		data := map[string][]byte{}
		obj := findConfigMap(src, pod.Namespace, cm.Name)
		if obj == nil {
			if cm.Optional != nil && *cm.Optional {
				return nil, nil
			}
			return nil, fmt.Errorf("configmap %q not found: give it in the manifest with the pod", cm.Name)
		}
		for k, v := range obj.Data {
			data[k] = []byte(v)
		}
		for k, v := range obj.BinaryData {
			data[k] = v
		}
		return keyFiles(data, cm.Items, cm.DefaultMode, cm.Optional, "configmap", cm.Name)
	case vol.Secret != nil:
		sec := vol.Secret
		obj := findSecret(src, pod.Namespace, sec.SecretName)
		if obj == nil {
			if sec.Optional != nil && *sec.Optional {
				return nil, nil
			}
			return nil, fmt.Errorf("secret %q not found: give it in the manifest with the pod", sec.SecretName)
		}
		return keyFiles(obj.Data, sec.Items, sec.DefaultMode, sec.Optional, "secret", sec.SecretName)
	case vol.DownwardAPI != nil:
		var files []volumeFile
		for _, it := range vol.DownwardAPI.Items {
			if it.FieldRef == nil {
				return nil, fmt.Errorf("downwardAPI item %q: only fieldRef is supported", it.Path)
			}
			v, err := downwardValue(pod, it.FieldRef.FieldPath)
			if err != nil {
				return nil, err
			}
			files = append(files, volumeFile{path: it.Path, data: []byte(v), mode: fileMode(it.Mode, vol.DownwardAPI.DefaultMode)})
		}
		return files, nil
	}
	return nil, nil
}

func keyFiles(data map[string][]byte, items []corev1.KeyToPath, defMode *int32, optional *bool, kind, name string) ([]volumeFile, error) {
	var files []volumeFile
	if len(items) == 0 {
		for k, v := range data {
			files = append(files, volumeFile{path: k, data: v, mode: fileMode(nil, defMode)})
		}
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, fmt.Errorf("%s %q has no key %q", kind, name, it.Key)
		}
		files = append(files, volumeFile{path: it.Path, data: v, mode: fileMode(it.Mode, defMode)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, nil
}

func fileMode(item, def *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item)
	case def != nil:
		return os.FileMode(*def)
	}
	return defaultVolumeMode
}

// downwardValue renders a field as the kubelet writes it into a
// downwardAPI file: maps as sorted key="value" lines.
func downwardValue(pod *corev1.Pod, fp string) (string, error) {
	switch fp {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	}
	return "", fmt.Errorf("downwardAPI fieldPath %q is not supported", fp)
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

func findConfigMap(src *Sources, ns, name string) *corev1.ConfigMap {
	for _, cm := range src.ConfigMaps {
		if cm.Namespace == ns && cm.Name == name {
			return cm
		}
	}
	return nil
}

func findSecret(src *Sources, ns, name string) *corev1.Secret {
	for _, s := range src.Secrets {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

// writeProjected writes the files into dir through an os.Root, so no path
// of a file can lead out of the volume, even through a symlink.
func writeProjected(dir string, files []volumeFile) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range files {
		if d := path.Dir(f.path); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("writing %s: %w", f.path, err)
			}
		}
		fh, err := root.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return fmt.Errorf("writing %s: %w", f.path, err)
		}
		_, werr := fh.Write(f.data)
		cerr := fh.Chmod(f.mode)
		if err := fh.Close(); werr != nil || cerr != nil || err != nil {
			return fmt.Errorf("writing %s: %v %v %v", f.path, werr, cerr, err)
		}
	}
	return nil
}
