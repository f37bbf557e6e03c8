// Package lc is podsec's one adapter to runc's libcontainer: the
// conversion of an OCI spec's process, the create call, the console (a
// terminal handed over a socket, or attached to ours), the start of a
// process in a container (init or exec'd) and the signals that follow it.
//
// Both front ends use it: package runtime (pods) and package oci with
// cmd/podsec-runtime (runc's command line). Before, each had its own
// conversion and the pods' copy dropped rlimits, labels and the AppArmor
// profile; one copy cannot drift from the other.
//
// It lives under internal/ because it is no API of the module: it follows
// libcontainer's types, which change with runc.
package lc
