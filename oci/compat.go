package oci

import (
	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	selinux "github.com/opencontainers/selinux/go-selinux"
	"github.com/sirupsen/logrus"
)

// adaptConfig adjusts what specconv made of a spec where libcontainer is
// stricter than the runtime spec, and than crun and older runc, about
// things the kernel ignores anyway. Each change is logged at debug level.
// The node policy has already seen the spec as the bundle wrote it.
func adaptConfig(cfg *configs.Config) {
	for _, d := range cfg.Devices {
		// mknod(2) ignores the numbers of a FIFO, but libcontainer checks
		// the new inode's major:minor against them and fails the create.
		if d.Type == config.FifoDevice && (d.Major != 0 || d.Minor != 0) {
			logrus.Debugf("device %s: a fifo has no major:minor, %d:%d ignored", d.Path, d.Major, d.Minor)
			d.Major, d.Minor = 0, 0
		}
	}
	for _, m := range cfg.Mounts {
		// A bind mount shares the source's superblock: the kernel ignores
		// filesystem data on MS_BIND, which libcontainer's validator
		// refuses outright. runc before 1.2 and crun accept and drop it.
		if m.IsBind() && m.Data != "" {
			logrus.Debugf("mount %s: filesystem data %q ignored on a bind mount", m.Destination, m.Data)
			m.Data = ""
		}
	}
	// Without SELinux there is no context to mount with; crun drops the
	// label. A process label is not dropped: that is a confinement the
	// spec asks for, and libcontainer refuses it.
	if cfg.MountLabel != "" && !selinux.GetEnabled() {
		logrus.Debugf("mountLabel %q ignored: selinux is not enabled", cfg.MountLabel)
		cfg.MountLabel = ""
	}
}
