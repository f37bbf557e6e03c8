package spec

import (
	"fmt"
	"math"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DefaultPath is the PATH of a container whose image and pod set none
// (containerd's default spec).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// withProcess sets args, env and cwd as the kubelet and containerd combine
// the pod with the image config.
func withProcess(c *Container, s *specs.Spec) error {
	podEnv, err := c.envVars()
	if err != nil {
		return err
	}
	vars := map[string]string{}
	for _, kv := range podEnv {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var img ImageConfig
	if c.Image != nil {
		img = *c.Image
	}
	var args []string
	switch {
	case len(c.C.Command) > 0:
		args = append(expandAll(c.C.Command, vars), expandAll(c.C.Args, vars)...)
	case len(c.C.Args) > 0:
		args = append(append([]string{}, img.Entrypoint...), expandAll(c.C.Args, vars)...)
	default:
		args = append(append([]string{}, img.Entrypoint...), img.Cmd...)
	}
	if len(args) == 0 {
		return field.Required(c.Path.Child("command"), "no command specified: the pod and the image give none")
	}
	s.Process.Args = args
	s.Process.Env = mergeEnv([]string{"PATH=" + DefaultPath, "HOSTNAME=" + c.hostname()}, img.Env, podEnv)
	s.Process.Cwd = "/"
	if img.WorkingDir != "" {
		s.Process.Cwd = img.WorkingDir
	}
	if c.C.WorkingDir != "" {
		s.Process.Cwd = c.C.WorkingDir
	}
	s.Process.Terminal = false
	return nil
}

// mergeEnv appends KEY=VALUE lists in order, a later value replacing an
// earlier one of the same key in its place (containerd's WithEnv).
func mergeEnv(lists ...[]string) []string {
	var out []string
	at := map[string]int{}
	for _, l := range lists {
		for _, kv := range l {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := at[k]; ok {
				out[i] = kv
				continue
			}
			at[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

// envVars resolves the container's env as the kubelet does: in order, each
// value expanded against the ones before it.
func (c *Container) envVars() ([]string, error) {
	vars := map[string]string{}
	var out []string
	envPath := c.Path.Child("env")
	if len(c.C.EnvFrom) > 0 {
		return nil, field.Forbidden(c.Path.Child("envFrom"), "not supported by podsec: a node has no ConfigMaps or Secrets")
	}
	for i, e := range c.C.Env {
		v := expand(e.Value, vars)
		if e.ValueFrom != nil {
			var err error
			if v, err = c.valueFrom(e.ValueFrom, envPath.Index(i).Child("valueFrom")); err != nil {
				return nil, err
			}
		}
		vars[e.Name] = v
		out = append(out, e.Name+"="+v)
	}
	return out, nil
}

func (c *Container) valueFrom(src *corev1.EnvVarSource, p *field.Path) (string, error) {
	switch {
	case src.FieldRef != nil:
		return c.fieldRef(src.FieldRef.FieldPath, p.Child("fieldRef", "fieldPath"))
	case src.ResourceFieldRef != nil:
		return c.resourceRef(src.ResourceFieldRef, p.Child("resourceFieldRef"))
	case src.ConfigMapKeyRef != nil:
		return "", field.Forbidden(p.Child("configMapKeyRef"), "not supported by podsec: a node has no ConfigMaps")
	case src.SecretKeyRef != nil:
		return "", field.Forbidden(p.Child("secretKeyRef"), "not supported by podsec: a node has no Secrets")
	}
	return "", field.Required(p, "must specify one of: `fieldRef`, `resourceFieldRef`")
}

func (c *Container) fieldRef(fp string, p *field.Path) (string, error) {
	pod := c.Pod
	if k, ok := mapKey(fp, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := mapKey(fp, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch fp {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		if pod.Spec.NodeName != "" {
			return pod.Spec.NodeName, nil
		}
		return c.Options.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return c.Options.PodIP, nil
	case "status.hostIP", "status.hostIPs":
		return c.Options.HostIP, nil
	}
	return "", field.NotSupported(p, fp, []string{"metadata.name", "metadata.namespace", "metadata.uid",
		"metadata.labels['<KEY>']", "metadata.annotations['<KEY>']", "spec.nodeName", "spec.serviceAccountName",
		"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"})
}

// mapKey parses "metadata.labels['key']".
func mapKey(fp, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(fp, prefix+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}

func (c *Container) resourceRef(r *corev1.ResourceFieldSelector, p *field.Path) (string, error) {
	if r.ContainerName != "" && r.ContainerName != c.C.Name {
		return "", field.Forbidden(p.Child("containerName"), "podsec resolves resources of the container itself only")
	}
	kind, name, _ := strings.Cut(r.Resource, ".")
	list := c.C.Resources.Limits
	if kind == "requests" {
		list = c.C.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		if kind != "limits" || name != "memory" || c.Options.NodeMemoryBytes == 0 {
			return "", field.Invalid(p.Child("resource"), r.Resource, "the container sets no such value and the node's is not known")
		}
		q = *resource.NewQuantity(c.Options.NodeMemoryBytes, resource.BinarySI)
	}
	divisor := r.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == "cpu" {
		return fmt.Sprint(int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))), nil
	}
	return fmt.Sprint(int64(math.Ceil(float64(q.Value()) / float64(divisor.Value())))), nil
}

func expandAll(in []string, vars map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}

// expand replaces $(NAME) with the value of a defined variable, as the
// kubelet does for env values, command and args: "$$" is a literal "$",
// and a reference to an undefined variable is left as written.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
