package workload

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors wrapped by DocError.Err; test them with errors.Is.
var (
	// ErrRequired: a required field (kind, apiVersion) is missing; the
	// DocError's Field names it.
	ErrRequired = errors.New("required value")
	// ErrUnsupportedVersion: a workload kind in a version tokenguard does
	// not read (e.g. apps/v1beta3 Deployment).
	ErrUnsupportedVersion = errors.New("unsupported apiVersion")
	// ErrNotObject: the document is a scalar or a sequence, not a mapping.
	ErrNotObject = errors.New("document is not an object")
	// ErrWrongType: a field has the wrong type (e.g. containers: "x").
	ErrWrongType = errors.New("wrong type")
	// ErrNoContainers: the pod spec has no (regular) containers.
	ErrNoContainers = errors.New("workload has no containers")
	// ErrNoImage: a container has no image.
	ErrNoImage = errors.New("container has no image")
	// ErrTooLarge: a document is larger than MaxDocumentSize.
	ErrTooLarge = errors.New("document too large")
	// ErrNoStdin: "-" was given but there is no standard input to read.
	ErrNoStdin = errors.New("no standard input")
)

// DocError is a problem with one document of a manifest, or with a whole
// path (Document 0). Reading goes on after it.
type DocError struct {
	// Source is the file path, "-" for stdin.
	Source string
	// Document is the 1-based document index in Source; 0 when the error is
	// about the path itself (e.g. it does not exist).
	Document int
	// Item is the 1-based index inside a List, 0 when not in a List.
	Item int
	// Object names the object when known, e.g. "Deployment default/api".
	Object string
	// Field is the field path, e.g. "spec.template.spec.containers[0].image";
	// empty when the document as a whole is at fault.
	Field string
	Err   error
}

// Error reads like
//
//	x.yaml: document 3 (Deployment default/api): spec.template.spec.containers: workload has no containers
//	x.yaml: document 1, item 2 (Pod web): spec.containers[0].image: container has no image
//	bad.yaml: document 2: yaml: line 4: mapping values are not allowed in this context
//	missing.yaml: no such file or directory
func (e *DocError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Document > 0 {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString("document ")
		b.WriteString(strconv.Itoa(e.Document))
		if e.Item > 0 {
			b.WriteString(", item ")
			b.WriteString(strconv.Itoa(e.Item))
		}
	}
	if e.Object != "" {
		b.WriteString(" (")
		b.WriteString(e.Object)
		b.WriteString(")")
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("unknown error")
	}
	return b.String()
}

// Unwrap returns Err.
func (e *DocError) Unwrap() error { return e.Err }

// objectName formats "Kind namespace/name", "Kind name" or "Kind".
func objectName(kind, namespace, name string) string {
	switch {
	case kind == "":
		return ""
	case name == "":
		return kind
	case namespace == "":
		return kind + " " + name
	default:
		return kind + " " + namespace + "/" + name
	}
}
