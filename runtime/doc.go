// Package runtime holds everything of podsec that touches the kernel:
// libcontainer, mounts, volumes, cgroups and the state directory. It feeds
// the pure spec package with the node's facts and the paths it prepared.
package runtime
