package seccomp

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidProfile is returned, wrapped, when a Localhost profile is not
	// valid JSON, has unknown fields, or uses an action, operator,
	// architecture or flag that the OCI runtime spec does not define.
	ErrInvalidProfile = errors.New("invalid seccomp profile")

	// ErrProfileEscapes is returned, wrapped, when a localhostProfile is
	// absolute, has a ".." element, or resolves (through symlinks) outside
	// the profile root.
	ErrProfileEscapes = errors.New("seccomp profile path escapes the profile root")

	// ErrNotRegularFile is returned, wrapped, when a localhostProfile names a
	// directory, device, FIFO or socket rather than a regular file.
	ErrNotRegularFile = errors.New("seccomp profile is not a regular file")

	// ErrProfileTooLarge is returned, wrapped, when a Localhost profile is
	// larger than MaxProfileSize.
	ErrProfileTooLarge = errors.New("seccomp profile is too large")
)

// kindError is an error whose message is its cause alone but which also
// matches a sentinel with errors.Is, so that messages read
// `seccomp profile "x.json": syscalls[2].action: unknown action "FOO"`
// rather than repeating the sentinel's text.
type kindError struct {
	kind  error
	cause error
}

func (e *kindError) Error() string   { return e.cause.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.cause} }

// kindf returns an error matching kind whose message is the formatted text.
// Its arguments may include a %w verb.
func kindf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, cause: fmt.Errorf(format, args...)}
}

// invalidf returns an ErrInvalidProfile with the formatted message.
func invalidf(format string, args ...any) error {
	return kindf(ErrInvalidProfile, format, args...)
}

// profileError prefixes err with the profile's name as the Pod gave it.
func profileError(name string, err error) error {
	return fmt.Errorf("seccomp profile %q: %w", name, err)
}
