package spec

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// maxDNSSearches is the kubelet's limit of search domains (with
// maxDNSNameservers, glibc's limit of name servers).
const maxDNSSearches = 32

// ResolvConf makes a pod's /etc/resolv.conf from the node's as the kubelet
// does for its dnsPolicy and dnsConfig. A node runs no cluster DNS, so
// ClusterFirst (and ClusterFirstWithHostNet) fall back to the node's
// resolver, as the kubelet does without --cluster-dns; the warning says so.
// dnsConfig's nameservers and searches are appended without duplicates
// (at most 3 and 32), its options merged by name, a later value winning.
func ResolvConf(pod *corev1.Pod, node []byte) (content []byte, warnings []string) {
	var ns, search []string
	var opts []corev1.PodDNSConfigOption
	switch pod.Spec.DNSPolicy {
	case corev1.DNSNone:
	case corev1.DNSDefault:
		ns, search, opts = parseResolvConf(node)
	default:
		ns, search, opts = parseResolvConf(node)
		if pod.Spec.DNSPolicy != corev1.DNSClusterFirst || !pod.Spec.HostNetwork {
			warnings = append(warnings, fmt.Sprintf("dnsPolicy %s: no cluster DNS on this node, the node's resolver is used", pod.Spec.DNSPolicy))
		}
	}
	if c := pod.Spec.DNSConfig; c != nil {
		ns = appendUnique(ns, c.Nameservers...)
		search = appendUnique(search, c.Searches...)
		opts = mergeOptions(opts, c.Options)
	}
	if len(ns) > maxDNSNameservers {
		warnings = append(warnings, fmt.Sprintf("nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: %s", strings.Join(ns[:maxDNSNameservers], " ")))
		ns = ns[:maxDNSNameservers]
	}
	if len(search) > maxDNSSearches {
		search = search[:maxDNSSearches]
	}
	var b bytes.Buffer
	for _, n := range ns {
		fmt.Fprintf(&b, "nameserver %s\n", n)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	if len(opts) > 0 {
		parts := make([]string, len(opts))
		for i, o := range opts {
			parts[i] = o.Name
			if o.Value != nil {
				parts[i] += ":" + *o.Value
			}
		}
		fmt.Fprintf(&b, "options %s\n", strings.Join(parts, " "))
	}
	return b.Bytes(), warnings
}

func parseResolvConf(b []byte) (ns, search []string, opts []corev1.PodDNSConfigOption) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				ns = appendUnique(ns, f[1])
			}
		case "search", "domain":
			// The last search or domain line wins, as in the resolver.
			search = appendUnique(nil, f[1:]...)
		case "options":
			for _, o := range f[1:] {
				name, val, ok := strings.Cut(o, ":")
				opt := corev1.PodDNSConfigOption{Name: name}
				if ok {
					opt.Value = &val
				}
				opts = mergeOptions(opts, []corev1.PodDNSConfigOption{opt})
			}
		}
	}
	return ns, search, opts
}

func appendUnique(list []string, add ...string) []string {
	for _, a := range add {
		if !hasString(list, a) {
			list = append(list, a)
		}
	}
	return list
}

func mergeOptions(list, add []corev1.PodDNSConfigOption) []corev1.PodDNSConfigOption {
	for _, a := range add {
		replaced := false
		for i := range list {
			if list[i].Name == a.Name {
				list[i] = a
				replaced = true
			}
		}
		if !replaced {
			list = append(list, a)
		}
	}
	return list
}
