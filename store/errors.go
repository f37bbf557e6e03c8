package store

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Sentinel errors of the store, checked with errors.Is.
var (
	// ErrNotFound: no object of that kind, namespace and name.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: Create found an object of that name.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: the object failed validation.
	ErrInvalid = errors.New("invalid object")
	// ErrUnknownKind: no registered kind matches.
	ErrUnknownKind = errors.New("unknown kind")
)

// NotFoundError names the object that is missing, as the API server does:
// clusterroles.rbac.authorization.k8s.io "x" not found.
type NotFoundError struct {
	Resource string // plural, with ".group" for non-core kinds
	Name     string
}

// Error gives the API server's wording.
func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Resource, e.Name) }

// Unwrap makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// AlreadyExistsError names the object Create found, as the API server
// does: clusterroles.rbac.authorization.k8s.io "x" already exists.
type AlreadyExistsError struct {
	Resource string
	Name     string
}

// Error gives the API server's wording.
func (e *AlreadyExistsError) Error() string {
	return fmt.Sprintf("%s %q already exists", e.Resource, e.Name)
}

// Unwrap makes errors.Is(err, ErrAlreadyExists) true.
func (e *AlreadyExistsError) Unwrap() error { return ErrAlreadyExists }

// InvalidError is every problem of an object, with field paths.
type InvalidError struct {
	Kind string
	Name string
	Errs field.ErrorList
}

// Error gives the problems as the API server's Invalid status does, one
// per line.
func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "The %s %q is invalid:", e.Kind, e.Name)
	for _, err := range e.Errs {
		fmt.Fprintf(&b, "\n* %s", err.Error())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// kindError words an unknown kind as kubectl does, without the sentinel's
// text.
type kindError struct{ msg string }

func (e *kindError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, ErrUnknownKind) true.
func (e *kindError) Unwrap() error { return ErrUnknownKind }
