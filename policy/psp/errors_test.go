package psp

import (
	"errors"
	"fmt"
	"math"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fmtForbidden is ForbiddenError's text as fmt writes it, the API
// server's formula.
func fmtForbidden(e *ForbiddenError) string {
	detail := e.Reason.Error()
	if errors.Is(e.Reason, ErrUnableToAdmit) {
		detail = fmt.Sprintf("%s: %v", ErrUnableToAdmit, e.Errors)
	}
	return fmt.Sprintf("pods %q is forbidden: PodSecurityPolicy: %s", e.Pod, detail)
}

// TestForbiddenErrorText: the refusal written piece by piece is byte for
// byte fmt's, for every kind of field error and the values the rules
// give (and those they do not: typed strings, lists, floats, structs,
// nil), quoting included.
func TestForbiddenErrorText(t *testing.T) {
	p := field.NewPath("spec", "containers").Index(3).Child("securityContext", "capabilities", "add")
	values := []any{
		"plain", "", `quo"te\back`, "tab\tnew\nline", "ünï\u2028cöde", "\xff\xfe invalid", "<script>&",
		true, false, int64(0), int64(-9223372036854775808), int32(65535), int32(-1),
		int(7), uint16(80), float64(1.5), float32(2), math.Inf(1), 1e21,
		corev1.Capability("SYS_ADMIN"), []string{"a", "b"}, []corev1.Capability{"NET_RAW"},
		map[string]string{"k": "v"}, struct{ A int }{1}, nil, (*int)(nil), field.OmitValueType{},
		corev1.ProcMountType("Unmasked"),
	}
	var errs field.ErrorList
	for _, v := range values {
		for _, detail := range []string{"", "Privileged containers are not allowed", `with "quotes" and : colons`} {
			errs = append(errs,
				field.Invalid(p, v, detail),
				field.TypeInvalid(p, v, detail),
				field.NotFound(p, v),
				field.Duplicate(p, v),
				field.TooMany(p, 3, 2),
				&field.Error{Type: field.ErrorTypeTooFew, Field: p.String(), BadValue: v, Detail: detail},
				&field.Error{Type: field.ErrorTypeNotSupported, Field: p.String(), BadValue: v, Detail: detail},
				&field.Error{Type: field.ErrorTypeRequired, Field: p.String(), BadValue: v, Detail: detail},
				&field.Error{Type: field.ErrorTypeForbidden, Field: p.String(), BadValue: v, Detail: detail},
				&field.Error{Type: field.ErrorTypeTooLong, Field: p.String(), BadValue: v, Detail: detail},
				&field.Error{Type: field.ErrorTypeTooShort, Field: p.String(), BadValue: v, Detail: detail},
				&field.Error{Type: field.ErrorTypeInternal, Field: p.String(), BadValue: v, Detail: detail},
				&field.Error{Type: field.ErrorType("FieldValueMadeUp"), Field: p.String(), BadValue: v, Detail: detail},
			)
		}
	}
	errs = append(errs, field.NotSupported(p, "x", []string{"a", "b"}), field.Required(p, "why"),
		field.Forbidden(p, ""), field.TooLong(p, "abc", 2), field.InternalError(p, errors.New("boom")),
		&field.Error{Type: field.ErrorTypeInvalid, Field: "", BadValue: "no field"})
	cases := []*ForbiddenError{
		{Pod: "web", Reason: ErrUnableToAdmit, Errors: errs},
		{Pod: "web", Reason: ErrUnableToAdmit, Errors: errs[:1]},
		{Pod: `we"ird ü`, Reason: ErrUnableToAdmit},
		{Pod: "web", Reason: ErrUnableToAdmit, Errors: field.ErrorList{}},
		{Pod: "web", Reason: ErrUnableToAdmit, Errors: field.ErrorList{nil, field.Forbidden(p, "x")}},
		{Pod: "Unknown", Reason: ErrNoProviders},
		{Pod: "web", Reason: fmt.Errorf("wrapped: %w", ErrUnableToAdmit), Errors: errs[:3]},
	}
	for i, e := range cases {
		if got, want := e.Error(), fmtForbidden(e); got != want {
			t.Errorf("case %d: Error() =\n%s\nwant\n%s", i, got, want)
		}
	}
	for i, fe := range errs {
		if got, want := string(appendFieldError(nil, fe)), fmt.Sprintf("%v", fe); got != want {
			t.Errorf("error %d (%s, %T): %s, want %s", i, fe.Type, fe.BadValue, got, want)
		}
	}
}
