// Package apperr is the one application error type. Feature packages return
// an *Error with a Code and a message safe to show a user; the web layer maps
// codes to HTTP statuses in one place and logs the wrapped detail.
package apperr

import (
	"errors"
	"fmt"
)

// Code says what kind of failure an error is.
type Code string

// The codes. Anything without a code is Internal.
const (
	Invalid      Code = "invalid"      // the input is wrong; Message says how
	NotFound     Code = "not_found"    // no such thing, or the caller may not know it exists
	Conflict     Code = "conflict"     // the change clashes with the current state
	Unauthorized Code = "unauthorized" // not signed in, or credentials refused
	Forbidden    Code = "forbidden"    // signed in but not allowed
	RateLimited  Code = "rate_limited" // too many attempts; try later
	Unavailable  Code = "unavailable"  // a dependency is down
	Internal     Code = "internal"     // a bug or an unexpected failure
)

// Error is an application error.
type Error struct {
	Code    Code
	Message string // safe to show to the user
	Err     error  // detail for logs; never shown
}

// Error returns the message and the detail.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the detail.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a user-safe message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Wrap returns an error with a code, a user-safe message and detail for logs.
func Wrap(code Code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// CodeOf returns the code of err, or Internal when it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var f Fields
	if errors.As(err, &f) {
		return Invalid
	}
	return Internal
}

// MessageOf returns the user-safe message of err, or a general one.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "Sorry, there is a problem with the service. Try again later."
}

// FieldError is one problem with one form field.
type FieldError struct {
	Field   string // the form field's name, which is also its input's id
	Message string // what is wrong and how to fix it, for the user
}

// Fields is a set of problems with a form, in the order of its fields. It is
// an Invalid error.
type Fields []FieldError

// Error lists the messages.
func (f Fields) Error() string {
	s := "invalid:"
	for _, e := range f {
		s += " " + e.Field + ": " + e.Message + ";"
	}
	return s
}

// Add appends a problem with field.
func (f *Fields) Add(field, message string) { *f = append(*f, FieldError{field, message}) }

// Err returns f as an error, or nil when there is no problem.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}
