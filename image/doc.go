// Package image is podsec's local image store: images loaded from OCI
// layouts, oci-archives and docker save tars or pulled from registries,
// kept under <state root>/images with their layers unpacked once, by
// diffID, in overlayfs's native format (whiteouts are 0:0 character
// devices, opaque directories carry trusted.overlay.opaque=y), ready to be
// the lower layers of a container's overlay root.
//
// Layers are unpacked by podsec's own code, which keeps every entry of a
// hostile tar inside the layer directory: names climbing out with ".."
// are refused, absolute names are taken relative to the layer, and every
// parent is resolved with openat2(RESOLVE_IN_ROOT) so that a symlink of
// the layer cannot lead a later entry or a hard link outside it. Each
// layer's content is checked against the diffID its config names.
//
// Unpacked layers are never written after unpack: the runtime mounts an
// overlay with an upper directory of its own over them.
//
// A typical use by the runtime:
//
//	store, err := image.Open(filepath.Join(stateRoot, "images"))
//	if err != nil {
//		return err
//	}
//	img, err := store.Ensure(ctx, c.Image, c.ImagePullPolicy, image.PullOptions{})
//	if err != nil {
//		return err // errors.Is(err, image.ErrImageNeverPull) for policy Never
//	}
//	lower := make([]string, len(img.Layers))
//	for i, l := range img.Layers {
//		lower[len(img.Layers)-1-i] = l // overlay lists the top layer first
//	}
//	opts := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work
//	// ... and spec.Input{Image: &img.Config, ...}
package image
