package spec

import "errors"

// Sentinel errors of the spec package, checked with errors.Is.
var (
	// ErrInvalidManifest: the input is not a readable YAML or JSON manifest.
	ErrInvalidManifest = errors.New("invalid manifest")
	// ErrUnsupportedKind: the document is not of a kind the command reads.
	ErrUnsupportedKind = errors.New("unsupported kind")
	// ErrUnknownField: the document has a field its kind does not define.
	ErrUnknownField = errors.New("unknown field")
	// ErrDuplicateField: the document sets one field twice.
	ErrDuplicateField = errors.New("duplicate field")
	// ErrRequired: a field that must be given is missing.
	ErrRequired = errors.New("Required value")
	// ErrNoContainer: the named container is not in the pod.
	ErrNoContainer = errors.New("no such container")
	// ErrInvalidPod: the pod failed validation.
	ErrInvalidPod = errors.New("invalid pod")
)
