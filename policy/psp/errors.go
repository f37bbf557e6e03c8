package psp

import (
	"errors"
	"strconv"

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

// Error gives the API server's message. It is written piece by piece,
// byte for byte what fmt writes (TestForbiddenErrorText): a refusal by
// 50 policies is some hundred field errors, and fmt's reflection over
// each of them was a sixth of a refused review's CPU in the webhook.
func (e *ForbiddenError) Error() string {
	b := make([]byte, 0, 256)
	b = append(b, "pods "...)
	b = strconv.AppendQuote(b, e.Pod)
	b = append(b, " is forbidden: PodSecurityPolicy: "...)
	if !errors.Is(e.Reason, ErrUnableToAdmit) {
		return string(append(b, e.Reason.Error()...))
	}
	b = append(b, ErrUnableToAdmit.Error()...)
	b = append(b, ": ["...)
	for i, fe := range e.Errors {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendFieldError(b, fe)
	}
	return string(append(b, ']'))
}

// appendFieldError appends what fmt's %v prints of fe: fe.Error(), with
// the common values (strings, booleans, integers, none) written here and
// any other left to field.Error itself.
func appendFieldError(b []byte, fe *field.Error) []byte {
	if fe == nil {
		return append(b, "<nil>"...)
	}
	withValue := false
	switch fe.Type {
	case field.ErrorTypeRequired, field.ErrorTypeForbidden, field.ErrorTypeTooLong, field.ErrorTypeTooShort, field.ErrorTypeInternal:
	case field.ErrorTypeInvalid, field.ErrorTypeTypeInvalid, field.ErrorTypeNotSupported,
		field.ErrorTypeNotFound, field.ErrorTypeDuplicate, field.ErrorTypeTooMany, field.ErrorTypeTooFew:
		switch fe.BadValue.(type) {
		case field.OmitValueType:
		case string, bool, int64, int32:
			withValue = true
		default:
			return append(b, fe.Error()...)
		}
	default:
		return append(b, fe.Error()...)
	}
	b = append(b, fe.Field...)
	b = append(b, ": "...)
	b = append(b, fe.Type.String()...)
	if withValue {
		b = append(b, ": "...)
		switch v := fe.BadValue.(type) {
		case string:
			b = strconv.AppendQuote(b, v)
		case bool:
			b = strconv.AppendBool(b, v)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case int32:
			b = strconv.AppendInt(b, int64(v), 10)
		}
	}
	if fe.Detail != "" {
		b = append(b, ": "...)
		b = append(b, fe.Detail...)
	}
	return b
}

// Unwrap gives the reason to errors.Is.
func (e *ForbiddenError) Unwrap() error { return e.Reason }
