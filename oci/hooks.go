package oci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// sidecarFile sits in libcontainer's state directory (ROOT/ID), so that
// libcontainer's Destroy removes it with the rest.
const sidecarFile = "podsec-runtime.json"

// sidecar is what podsec-runtime keeps about a container beside
// libcontainer's state: the bundle (to report the creating state before
// libcontainer saves any) and the poststart hooks it runs itself.
type sidecar struct {
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Poststart   []specs.Hook      `json:"poststart,omitempty"`
	// EarlySeccomp is the early filter's profile of a split seccomp
	// profile, for the processes exec'd in the container.
	EarlySeccomp *configs.Seccomp `json:"earlySeccomp,omitempty"`
}

func (s sidecar) write(root, id string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, id, sidecarFile), b, 0o600)
}

func readSidecar(root, id string) (*sidecar, error) {
	b, err := os.ReadFile(filepath.Join(root, id, sidecarFile))
	if err != nil {
		return nil, err
	}
	var s sidecar
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// RunPoststart runs the poststart hooks once the container's process
// runs. The runtime spec says a failing poststart hook is logged and the
// lifecycle goes on.
func RunPoststart(c *libcontainer.Container, hooks []specs.Hook) {
	s, err := c.OCIState()
	if err != nil {
		logrus.Warnf("poststart hooks: %v", err)
		return
	}
	for i, h := range hooks {
		ch := configs.NewCommandHook(&configs.Command{Path: h.Path, Args: h.Args, Env: h.Env, Timeout: timeout(h.Timeout)})
		if err := ch.Run(s); err != nil {
			logrus.Warnf("poststart hook #%d: %v", i, err)
		}
	}
}

func timeout(secs *int) *time.Duration {
	if secs == nil {
		return nil
	}
	d := time.Duration(*secs) * time.Second
	return &d
}
