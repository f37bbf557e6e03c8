package spec

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	portProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
	pullPolicies  = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}
)

// validateContainers checks each init and app container on its own; the
// names are checked by validateContainerNames and the host ports across
// containers by validateHostPorts.
func validateContainers(pod *corev1.Pod, opts ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	volumes := make(map[string]*corev1.Volume, len(pod.Spec.Volumes))
	for i := range pod.Spec.Volumes {
		volumes[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	for _, ref := range validationContainers(&pod.Spec) {
		allErrs = append(allErrs, validateContainer(ref, opts)...)
		allErrs = append(allErrs, validateVolumeMounts(ref, volumes, opts)...)
		allErrs = append(allErrs, validateContainerSecurityContext(pod, ref, opts)...)
	}
	return allErrs
}

func validateContainer(ref ctrRef, opts ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	c, p := ref.c, ref.path
	switch {
	case c.Image == "":
		allErrs = append(allErrs, field.Required(p.Child("image"), ""))
	case c.Image != strings.TrimSpace(c.Image):
		allErrs = append(allErrs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	if c.ImagePullPolicy != "" && !isOneOf(pullPolicies, c.ImagePullPolicy) {
		allErrs = append(allErrs, field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, pullPolicies))
	}
	if rp := c.RestartPolicy; rp != nil {
		if !ref.init {
			allErrs = append(allErrs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		} else if *rp != corev1.ContainerRestartPolicyAlways {
			allErrs = append(allErrs, field.NotSupported(p.Child("restartPolicy"), *rp, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
		}
	}
	allErrs = append(allErrs, validateContainerPorts(c.Ports, p.Child("ports"))...)
	allErrs = append(allErrs, validateEnvNames(c.Env, p.Child("env"))...)
	allErrs = append(allErrs, validateResources(&c.Resources, p.Child("resources"))...)
	if len(c.VolumeDevices) > 0 {
		allErrs = append(allErrs, opts.node(field.Forbidden(p.Child("volumeDevices"), "block volumes are not supported by podsec"))...)
	}
	return allErrs
}

// validateContainerPorts checks the ports of one container. The hostPort
// rules that span containers are in validateHostPorts.
func validateContainerPorts(ports []corev1.ContainerPort, p *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	names := map[string]bool{}
	for i, port := range ports {
		ip := p.Index(i)
		if port.Name != "" {
			if msgs := validation.IsValidPortName(port.Name); len(msgs) != 0 {
				for _, msg := range msgs {
					allErrs = append(allErrs, field.Invalid(ip.Child("name"), port.Name, msg))
				}
			} else if names[port.Name] {
				allErrs = append(allErrs, field.Duplicate(ip.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		if port.ContainerPort == 0 {
			allErrs = append(allErrs, field.Required(ip.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				allErrs = append(allErrs, field.Invalid(ip.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				allErrs = append(allErrs, field.Invalid(ip.Child("hostPort"), port.HostPort, msg))
			}
		}
		if port.Protocol != "" && !isOneOf(portProtocols, port.Protocol) {
			allErrs = append(allErrs, field.NotSupported(ip.Child("protocol"), port.Protocol, portProtocols))
		}
		if port.HostIP != "" {
			allErrs = append(allErrs, validation.IsValidIP(ip.Child("hostIP"), port.HostIP)...)
		}
	}
	return allErrs
}

// validateHostPorts checks that with hostNetwork every hostPort is its
// containerPort (there is no NAT between them), and that no two app
// containers, or two ports of one init container, claim the same host
// port. Init containers run one at a time, so they may reuse a port.
func validateHostPorts(pod *corev1.Pod, _ ValidateOptions) field.ErrorList {
	allErrs := field.ErrorList{}
	appPorts := map[string]bool{}
	for _, ref := range validationContainers(&pod.Spec) {
		used := appPorts
		if ref.init {
			used = map[string]bool{}
		}
		for j, port := range ref.c.Ports {
			pp := ref.path.Child("ports").Index(j).Child("hostPort")
			if pod.Spec.HostNetwork && port.HostPort != port.ContainerPort {
				allErrs = append(allErrs, field.Invalid(pp, port.HostPort, "must match containerPort when hostNetwork is true"))
			}
			if port.HostPort == 0 {
				continue
			}
			proto := port.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			key := fmt.Sprintf("%s/%s/%d", proto, port.HostIP, port.HostPort)
			if used[key] {
				allErrs = append(allErrs, field.Duplicate(pp, key))
			}
			used[key] = true
		}
	}
	return allErrs
}

func validateEnvNames(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	for i, e := range env {
		np := p.Index(i).Child("name")
		if e.Name == "" {
			allErrs = append(allErrs, field.Required(np, ""))
			continue
		}
		for _, msg := range validation.IsRelaxedEnvVarName(e.Name) {
			allErrs = append(allErrs, field.Invalid(np, e.Name, msg))
		}
	}
	return allErrs
}

// validateResources checks that no quantity is negative and that no request
// is above its limit.
func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	allErrs := field.ErrorList{}
	for _, name := range sortedResourceNames(r.Limits) {
		q := r.Limits[name]
		if q.Sign() < 0 {
			allErrs = append(allErrs, field.Invalid(p.Child("limits").Key(string(name)), q.String(), apivalidation.IsNegativeErrorMsg))
		}
	}
	for _, name := range sortedResourceNames(r.Requests) {
		q := r.Requests[name]
		rp := p.Child("requests").Key(string(name))
		if q.Sign() < 0 {
			allErrs = append(allErrs, field.Invalid(rp, q.String(), apivalidation.IsNegativeErrorMsg))
			continue
		}
		if limit, ok := r.Limits[name]; ok && q.Cmp(limit) > 0 {
			allErrs = append(allErrs, field.Invalid(rp, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return allErrs
}

func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	m := make(map[string]string, len(l))
	for k := range l {
		m[string(k)] = ""
	}
	names := make([]corev1.ResourceName, 0, len(l))
	for _, k := range sortedMapKeys(m) {
		names = append(names, corev1.ResourceName(k))
	}
	return names
}
