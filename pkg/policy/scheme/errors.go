package scheme

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by every ParseMinimum error; test with errors.Is.
var (
	// ErrEmpty: the minimum is empty.
	ErrEmpty = errors.New("empty version")
	// ErrSyntax: the minimum is not a version of the scheme.
	ErrSyntax = errors.New("invalid version syntax")
	// ErrPartial: the minimum names a range (1.8, v1) where a full version
	// is required.
	ErrPartial = errors.New("partial version")
	// ErrNotMinimum: the minimum parses but cannot serve as a minimum
	// (floating or flavoured tag, pseudo-version without a release,
	// client-go legacy major).
	ErrNotMinimum = errors.New("version cannot be a minimum")
)

// MinimumError reports a catalog minimum that a scheme refuses.
type MinimumError struct {
	// Scheme is the catalog name of the scheme ("semver", ...).
	Scheme string
	// Value is the minimum as written.
	Value string
	// Problem says what is wrong, e.g. "\"x\" is not a number".
	Problem string
	// Err is one of the sentinel errors above.
	Err error
}

// Error renders e.g. `"1.x" is not a semver version: ...`.
func (e *MinimumError) Error() string {
	if e.Problem == "" {
		return fmt.Sprintf("%q is not a %s version", e.Value, e.Scheme)
	}
	return fmt.Sprintf("%q is not a %s version: %s", e.Value, e.Scheme, e.Problem)
}

// Unwrap returns the sentinel error.
func (e *MinimumError) Unwrap() error { return e.Err }

// minErr builds a MinimumError; an empty value always maps to ErrEmpty.
func minErr(scheme, value, problem string, sentinel error) error {
	if trimSpace(value) == "" {
		return &MinimumError{Scheme: scheme, Value: value, Problem: "the version is empty", Err: ErrEmpty}
	}
	if sentinel == nil {
		sentinel = ErrSyntax
	}
	return &MinimumError{Scheme: scheme, Value: value, Problem: problem, Err: sentinel}
}
