package spec

import (
	"sort"
	"strings"
)

// allCapabilities lists the capabilities of Linux up to 6.x in number order
// (CAP_CHOWN is 0, CAP_CHECKPOINT_RESTORE is 40). It is the default for
// Options.AllCapabilities; the runtime narrows it to what the running kernel
// knows (/proc/sys/kernel/cap_last_cap).
var allCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities is the set containerd (and CRI-O) give a container
// that is not privileged: the 14 capabilities of the Docker default.
var DefaultCapabilities = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE",
	"CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
}

// AllCapabilities returns every capability name podsec knows, in number
// order, as a new slice.
func AllCapabilities() []string {
	return append([]string(nil), allCapabilities...)
}

var knownCapabilities = func() map[string]bool {
	m := make(map[string]bool, len(allCapabilities))
	for _, c := range allCapabilities {
		m[c] = true
	}
	return m
}()

// NormalizeCapability returns the canonical OCI name of a capability as a
// Pod may spell it: "sys_time", "SYS_TIME" and "CAP_SYS_TIME" all give
// "CAP_SYS_TIME". "ALL" (in any case) gives "ALL". The second result is
// false when the name is not a capability known to the kernel.
func NormalizeCapability(name string) (string, bool) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == "ALL" {
		return "ALL", true
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	return n, knownCapabilities[n]
}

// sortedUnique returns the strings sorted with duplicates removed.
func sortedUnique(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	j := 0
	for i, s := range out {
		if i > 0 && s == out[j-1] {
			continue
		}
		out[j] = s
		j++
	}
	return out[:j]
}
