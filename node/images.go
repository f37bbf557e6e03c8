package node

import (
	"context"
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/image"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/spec"
)

// imageSource gives the runtime the images of a store.
type imageSource struct {
	store    *image.Store
	progress io.Writer
}

var _ runtime.ImageSource = imageSource{}

// ImageSource is the runtime's source of a store's images, as
// imagePullPolicy says (image.Store.Ensure, which never pulls images of
// image.LocalRegistry); progress, when not nil, receives pull progress.
func ImageSource(s *image.Store, progress io.Writer) runtime.ImageSource {
	return imageSource{store: s, progress: progress}
}

func (s imageSource) Ensure(ctx context.Context, ref string, policy corev1.PullPolicy) (*runtime.Image, error) {
	img, err := s.store.Ensure(ctx, ref, policy, image.PullOptions{Progress: s.progress})
	if err != nil {
		return nil, err
	}
	return &runtime.Image{Config: img.Config, Layers: img.Layers}, nil
}

// ContainerSpec is the OCI spec of a plan's container as Run hands it to
// libcontainer, with its image's config and users when the node's store
// has the image; found is false when it does not, and the spec then holds
// only the pod's own fields. The store is not made where there is none.
func (n *Node) ContainerSpec(plan *pipeline.Plan, name string) (s *specs.Spec, found bool, err error) {
	in := spec.Input{Pod: plan.Pod, ContainerName: name}
	c, err := spec.Find(&in)
	if err != nil {
		return nil, false, err
	}
	st, err := n.existingImages()
	if err != nil {
		return nil, false, err
	}
	var cfg *spec.ImageConfig
	var users *spec.UserDB
	// Any image the store cannot give (missing, or unreadable) leaves the
	// spec with the pod's own fields, as the caller warns.
	if st != nil {
		if img, gerr := st.Get(c.C.Image); gerr == nil {
			cfg = &img.Config
			if users, err = runtime.LayersUserDB(img.Layers); err != nil {
				return nil, false, err
			}
			found = true
		}
	}
	s, err = plan.ContainerSpec(name, cfg, users, "")
	return s, found, err
}
