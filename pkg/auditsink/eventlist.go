package auditsink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// batchError is a batch refused as a whole: Code is 400 or 413, never a
// 5xx (the API server resends a batch after a 5xx).
type batchError struct {
	Code int
	Msg  string
}

func (e *batchError) Error() string { return e.Msg }

// annotatedEvent is what the sink keeps of an event carrying the
// stale-token annotation.
type annotatedEvent struct {
	auditID, stage, pod string
	value               string // the annotation's value
}

// item is the part of an audit.k8s.io/v1 Event the sink reads.
type item struct {
	AuditID     string            `json:"auditID"`
	Stage       string            `json:"stage"`
	Annotations map[string]string `json:"annotations"`
	User        struct {
		Extra map[string][]string `json:"extra"`
	} `json:"user"`
}

// readEventList reads one audit.k8s.io/v1 EventList from r, item by item,
// and returns its events with a stale-token annotation. The body must be
// exactly one JSON object (spaces around it), with kind EventList or no
// kind, items an array (or null) of at most maxEvents events, and each of
// "kind" and "items" at most once (keys match case-insensitively, as
// encoding/json matches them). Errors are *batchError.
func readEventList(r io.Reader, maxEvents int) ([]annotatedEvent, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil, badBatch("empty body")
	case err != nil:
		return nil, readError(err)
	case tok != json.Delim('{'):
		return nil, badBatch("the body is not a JSON object")
	}
	var events []annotatedEvent
	var seenKind, seenItems bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, readError(err)
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "kind"):
			if seenKind {
				return nil, badBatch(`"kind" appears twice`)
			}
			seenKind = true
			var kind string
			if err := dec.Decode(&kind); err != nil {
				return nil, readError(err)
			}
			if kind != "" && kind != "EventList" {
				return nil, badBatch(fmt.Sprintf("kind %.64q is not EventList", kind))
			}
		case strings.EqualFold(key, "items"):
			if seenItems {
				return nil, badBatch(`"items" appears twice`)
			}
			seenItems = true
			if events, err = readItems(dec, maxEvents); err != nil {
				return nil, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, readError(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, readError(err)
	}
	switch _, err := dec.Token(); {
	case errors.Is(err, io.EOF):
		return events, nil
	case err != nil && isTooLarge(err):
		return nil, readError(err)
	default:
		return nil, badBatch("data after the EventList")
	}
}

// readItems reads the items array, keeping the annotated events.
func readItems(dec *json.Decoder, maxEvents int) ([]annotatedEvent, error) {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return nil, readError(err)
	case tok == nil:
		return nil, nil
	case tok != json.Delim('['):
		return nil, badBatch(`"items" is not an array`)
	}
	var events []annotatedEvent
	for n := 0; dec.More(); n++ {
		if n == maxEvents {
			return nil, &batchError{Code: http.StatusRequestEntityTooLarge,
				Msg: fmt.Sprintf("tokenguard: more than %d events in one audit batch; lower the API server's --audit-webhook-batch-max-size", maxEvents)}
		}
		var it item
		if err := dec.Decode(&it); err != nil {
			return nil, readError(err)
		}
		value, ok := it.Annotations[staletoken.AnnotationKey]
		if !ok {
			continue
		}
		events = append(events, annotatedEvent{
			auditID: it.AuditID, stage: it.Stage, value: value,
			pod: first(it.User.Extra[staletoken.PodNameExtraKey]),
		})
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, readError(err)
	}
	return events, nil
}

func badBatch(msg string) *batchError {
	return &batchError{Code: http.StatusBadRequest, Msg: "tokenguard: expected an audit.k8s.io/v1 EventList: " + msg}
}

// readError is the batchError of a read or decode error: 413 past the
// body limit, 400 otherwise.
func readError(err error) *batchError {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &batchError{Code: http.StatusRequestEntityTooLarge,
			Msg: fmt.Sprintf("tokenguard: audit batch larger than %d bytes", tooBig.Limit)}
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return badBatch(err.Error())
}

func isTooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
