package oci

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podsec/podsec/internal/lc"
)

// State is the runtime spec's state of a container, with runc's
// additions (rootfs, created, owner) that containerd and podman read.
type State struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// ReadState reads the state of container id under root. A container
// whose create is still running has no libcontainer state yet: it is
// reported as creating.
func ReadState(root, id string) (*State, error) {
	c, err := lc.Load(root, id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		if side, serr := readSidecar(root, id); serr == nil {
			return &State{Version: specs.Version, ID: id, Status: string(specs.StateCreating),
				Bundle: side.Bundle, Annotations: side.Annotations}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	st, err := c.Status()
	if err != nil {
		return nil, err
	}
	s, err := c.State()
	if err != nil {
		return nil, err
	}
	pid := s.BaseState.InitProcessPid
	if st == libcontainer.Stopped {
		pid = 0
	}
	bundle, annotations := utils.Annotations(s.Config.Labels)
	return &State{
		Version:     s.BaseState.Config.Version,
		ID:          s.BaseState.ID,
		Pid:         pid,
		Status:      st.String(),
		Bundle:      bundle,
		Rootfs:      s.BaseState.Config.Rootfs,
		Created:     s.BaseState.Created,
		Annotations: annotations,
	}, nil
}

// List reads the state of every container under root, sorted by ID. A
// container whose state cannot be read is passed to skipped and left out.
func List(root string, skipped func(id string, err error)) ([]State, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []State
	for _, e := range ents {
		if !e.IsDir() || e.Name() == cacheDir {
			continue
		}
		s, err := ReadState(root, e.Name())
		if err != nil {
			skipped(e.Name(), err)
			continue
		}
		s.Owner = owner(filepath.Join(root, e.Name()))
		out = append(out, *s)
	}
	return out, nil
}

// owner names the user owning a container's state directory.
func owner(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	uid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid))
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
}

// DefaultRoot is where container state lives without --root.
const DefaultRoot = "/run/podsec-runtime"
