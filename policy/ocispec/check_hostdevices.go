package ocispec

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultDevices are the device nodes every container runtime creates in a
// container's /dev, by path and by character device number.
var defaultDevices = map[string][2]int64{
	"/dev/null": {1, 3}, "/dev/zero": {1, 5}, "/dev/full": {1, 7}, "/dev/random": {1, 8},
	"/dev/urandom": {1, 9}, "/dev/tty": {5, 0}, "/dev/console": {5, 1}, "/dev/ptmx": {5, 2},
}

// checkHostDevices: access to host devices is disallowed (privileged
// containers get every one; baseline also forbids hostPath volumes, which
// is how a pod would reach a device).
//
// Spec: linux.devices and linux.resources.devices. Allowed: device nodes
// of the default set (null, zero, full, random, urandom, tty, console,
// ptmx); cgroup rules that allow those, the pseudo-terminals (136:*),
// /dev/net/tun (10:200, which runc allows every container) or only mknod
// ("m"); deny rules. linux.netDevices (a node's network interface moved
// into the container) are refused.
func checkHostDevices(in *input) []Violation {
	if in.spec == nil {
		return nil
	}
	l := in.linux()
	var vs []Violation
	var nodes []string
	for _, d := range l.Devices {
		if want, ok := defaultDevices[d.Path]; !ok || d.Type != "c" || d.Major != want[0] || d.Minor != want[1] {
			nodes = append(nodes, d.Path)
		}
	}
	if len(nodes) > 0 {
		vs = append(vs, violation("linux.devices", nodes, "host devices"))
	}
	if len(l.NetDevices) > 0 {
		var names []string
		for n := range l.NetDevices {
			names = append(names, n)
		}
		vs = append(vs, violation("linux.netDevices", sortedUnique(names), "host devices"))
	}
	if l.Resources != nil {
		for i, r := range l.Resources.Devices {
			if r.Allow && !defaultDeviceRule(r) {
				vs = append(vs, Violation{Field: fmt.Sprintf("linux.resources.devices[%d]", i),
					What: "access " + deviceRule(r), Reason: "host devices"})
			}
		}
	}
	return vs
}

// defaultDeviceRule reports whether an allow rule grants only what every
// container has.
func defaultDeviceRule(r specs.LinuxDeviceCgroup) bool {
	if strings.Trim(r.Access, "m") == "" {
		return true // mknod only: the node still cannot be opened
	}
	if r.Type != "c" || r.Major == nil {
		return false
	}
	if *r.Major == 136 { // /dev/pts/*
		return true
	}
	if r.Minor != nil && *r.Major == 10 && *r.Minor == 200 { // /dev/net/tun: runc's default
		return true
	}
	if r.Minor == nil {
		return false
	}
	for _, d := range defaultDevices {
		if d[0] == *r.Major && d[1] == *r.Minor {
			return true
		}
	}
	return false
}

// deviceRule spells a rule as the devices cgroup does: "a *:* rwm".
func deviceRule(r specs.LinuxDeviceCgroup) string {
	typ, major, minor := r.Type, "*", "*"
	if typ == "" {
		typ = "a"
	}
	if r.Major != nil && *r.Major >= 0 {
		major = fmt.Sprint(*r.Major)
	}
	if r.Minor != nil && *r.Minor >= 0 {
		minor = fmt.Sprint(*r.Minor)
	}
	access := r.Access
	if access == "" {
		access = "rwm"
	}
	return fmt.Sprintf("%q", typ+" "+major+":"+minor+" "+access)
}
