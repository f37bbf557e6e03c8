package image

import "errors"

// Sentinel errors of the image store, checked with errors.Is.
var (
	// ErrNotFound is returned when no image in the store has the reference.
	ErrNotFound = errors.New("image not found")
	// ErrImageNeverPull is returned by Ensure when the image is missing
	// and the pull policy is Never (the kubelet's ErrImageNeverPull).
	ErrImageNeverPull = errors.New("ErrImageNeverPull")
	// ErrInvalidReference is returned for a reference that does not parse.
	ErrInvalidReference = errors.New("invalid reference format")
	// ErrUnsafeLayer is returned when a layer's tar has an entry that
	// would escape the layer directory, or that the store refuses.
	ErrUnsafeLayer = errors.New("unsafe layer entry")
	// ErrDigestMismatch is returned when a layer's content does not
	// match the diffID its image config names.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrLimitExceeded is returned when an image's manifest, index,
	// config or layer goes over one of the store's Limits.
	ErrLimitExceeded = errors.New("image limit exceeded")
	// ErrNotRegular is returned when a file of an OCI layout or the
	// archive to load is a symlink, a fifo, a device or a directory
	// where a regular file belongs.
	ErrNotRegular = errors.New("not a regular file")
)
