package psp

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Sentinel errors of the psp package, checked with errors.Is.
var (
	// ErrUnusablePolicy: the policy cannot be applied to any pod (see Build).
	ErrUnusablePolicy = errors.New("unusable PodSecurityPolicy")
	// ErrNoProviders: there was no policy to try, the text Kubernetes gave.
	ErrNoProviders = errors.New("no providers available to validate pod request")
	// ErrUnableToAdmit: no usable policy admits the pod.
	ErrUnableToAdmit = errors.New("unable to admit pod")
)

// ForbiddenError is the refusal of a pod by Admit. Its text is the one the
// API server returned in 1.24:
//
//	pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]
//
// The bracketed list is the ErrorList printed by fmt's %v, which separates
// the errors with a single space.
type ForbiddenError struct {
	// Pod is the name the message gives the pod: its name, else its
	// generateName, else "Unknown" (admission.NewForbidden's choice).
	Pod string
	// Reason is ErrNoProviders or ErrUnableToAdmit.
	Reason error
	// Errors are those of every usable policy, policies in name order.
	Errors field.ErrorList
}

// Error gives the API server's message.
func (e *ForbiddenError) Error() string {
	detail := e.Reason.Error()
	if errors.Is(e.Reason, ErrUnableToAdmit) {
		detail = fmt.Sprintf("%s: %v", ErrUnableToAdmit, e.Errors)
	}
	return fmt.Sprintf("pods %q is forbidden: PodSecurityPolicy: %s", e.Pod, detail)
}

// Unwrap gives the reason to errors.Is.
func (e *ForbiddenError) Unwrap() error { return e.Reason }
