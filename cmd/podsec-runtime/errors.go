package main

import "errors"

// Sentinel errors, checked with errors.Is.
var (
	// ErrUsage is a command line error: wrong arguments or flags.
	ErrUsage = errors.New("usage")
	// ErrSystemdCgroup refuses --systemd-cgroup.
	ErrSystemdCgroup = errors.New("--systemd-cgroup is not supported")
)
