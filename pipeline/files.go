package pipeline

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Objects are the objects a pod's configMap and secret volumes are filled
// from: the ConfigMaps and Secrets given with the pod (a node has no API
// server to ask).
type Objects struct {
	ConfigMaps []*corev1.ConfigMap
	Secrets    []*corev1.Secret
}

// File is one file of a configMap, secret or downwardAPI volume, as the
// kubelet's atomic writer and SetVolumeOwnership leave it: the runtime
// writes it as it is. The file's owner is root and, when the volume has
// an FSGroup, its group is FSGroup.
type File struct {
	// Path is the file's slash-separated path inside the volume.
	Path string
	// Data is the file's content; a secret's never touches the disk.
	Data []byte
	// Mode is the file's permission bits: the item's mode or the volume's
	// defaultMode (0644 when neither is set), with read for owner and
	// group added when the volume is given to an fsGroup.
	Mode fs.FileMode
}

// defaultFileMode is the mode of a projected file when the pod names none
// (the API's DefaultMode when defaulting has not run).
const defaultFileMode = 0o644

// fsGroupReadOnlyMask is what SetVolumeOwnership adds to every file of a
// read-only volume (configMap, secret, downwardAPI) given to an fsGroup.
const fsGroupReadOnlyMask = 0o440

// projectedFiles are the files of a configMap, secret or downwardAPI
// volume as the kubelet writes them: every key (or only the items), each
// with the item's mode or defaultMode, sorted by path. A missing object or
// key is an error unless the source is optional. fsGroup, when set, adds
// the owner and group read bits the kubelet's ownership change gives.
func projectedFiles(pod *corev1.Pod, vol *corev1.Volume, objs Objects, fsGroup *int64) ([]File, error) {
	var files []File
	var err error
	switch {
	case vol.ConfigMap != nil:
		files, err = configMapFiles(pod.Namespace, vol.ConfigMap, objs)
	case vol.Secret != nil:
		files, err = secretFiles(pod.Namespace, vol.Secret, objs)
	case vol.DownwardAPI != nil:
		files, err = downwardAPIFiles(pod, vol.DownwardAPI)
	}
	if err != nil {
		return nil, err
	}
	if fsGroup != nil {
		for i := range files {
			files[i].Mode |= fsGroupReadOnlyMask
		}
	}
	return files, nil
}

func configMapFiles(namespace string, cm *corev1.ConfigMapVolumeSource, objs Objects) ([]File, error) {
	obj := findConfigMap(objs, namespace, cm.Name)
	if obj == nil {
		if cm.Optional != nil && *cm.Optional {
			return nil, nil
		}
		return nil, fmt.Errorf("configmap %q not found: give it in the manifest with the pod", cm.Name)
	}
	data := map[string][]byte{}
	for k, v := range obj.Data {
		data[k] = []byte(v)
	}
	for k, v := range obj.BinaryData {
		data[k] = v
	}
	return keyFiles(data, cm.Items, cm.DefaultMode, cm.Optional, "configmap", cm.Name)
}

func secretFiles(namespace string, sec *corev1.SecretVolumeSource, objs Objects) ([]File, error) {
	obj := findSecret(objs, namespace, sec.SecretName)
	if obj == nil {
		if sec.Optional != nil && *sec.Optional {
			return nil, nil
		}
		return nil, fmt.Errorf("secret %q not found: give it in the manifest with the pod", sec.SecretName)
	}
	return keyFiles(obj.Data, sec.Items, sec.DefaultMode, sec.Optional, "secret", sec.SecretName)
}

func downwardAPIFiles(pod *corev1.Pod, d *corev1.DownwardAPIVolumeSource) ([]File, error) {
	var files []File
	for _, it := range d.Items {
		if it.FieldRef == nil {
			return nil, fmt.Errorf("downwardAPI item %q: only fieldRef is supported", it.Path)
		}
		v, err := downwardValue(pod, it.FieldRef.FieldPath)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: it.Path, Data: []byte(v), Mode: fileMode(it.Mode, d.DefaultMode)})
	}
	return files, nil
}

func keyFiles(data map[string][]byte, items []corev1.KeyToPath, defMode *int32, optional *bool, kind, name string) ([]File, error) {
	var files []File
	if len(items) == 0 {
		for k, v := range data {
			files = append(files, File{Path: k, Data: v, Mode: fileMode(nil, defMode)})
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
		files = append(files, File{Path: it.Path, Data: v, Mode: fileMode(it.Mode, defMode)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func fileMode(item, def *int32) fs.FileMode {
	switch {
	case item != nil:
		return fs.FileMode(*item)
	case def != nil:
		return fs.FileMode(*def)
	}
	return defaultFileMode
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

func findConfigMap(objs Objects, ns, name string) *corev1.ConfigMap {
	for _, cm := range objs.ConfigMaps {
		if cm.Namespace == ns && cm.Name == name {
			return cm
		}
	}
	return nil
}

func findSecret(objs Objects, ns, name string) *corev1.Secret {
	for _, s := range objs.Secrets {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}
