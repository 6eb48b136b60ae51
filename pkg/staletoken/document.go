package staletoken

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// errStop ends document mode after a problem already counted.
var errStop = errors.New("stop reading")

// readDocument reads a stream of JSON values that span lines: objects (an
// EventList, whose items are decoded one at a time, or a single event or
// CloudWatch record) and arrays of events or records. A syntax error ends the
// input: it is counted malformed at its line (or, before any record was
// recognised, the input is unrecognised).
func (fr *fileReader) readDocument(r io.Reader) error {
	if err := fr.readValues(r); err != errStop {
		return err
	}
	return nil
}

func (fr *fileReader) readValues(r io.Reader) error {
	cr := &countingReader{r: r}
	defer func() { fr.st.Lines = cr.totalLines() }()
	dec := json.NewDecoder(cr)
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fr.documentError(cr, err)
		}
		line := cr.lineAt(start)
		switch tok {
		case json.Delim('['):
			if err := fr.items(dec, cr, FormatJSONArray); err != nil {
				return err
			}
		case json.Delim('{'):
			if err := fr.object(dec, cr, line); err != nil {
				return err
			}
		default:
			if fr.format == "" {
				return fmt.Errorf("%w: line %d is JSON %v, not an audit Event, an EventList or a CloudWatch Logs record", ErrUnrecognised, line, tok)
			}
			fr.malformed(line, "JSON but not an audit event")
		}
		cr.drop(dec.InputOffset())
	}
}

// items reads the values of an array whose '[' was read, and its ']'.
func (fr *fileReader) items(dec *json.Decoder, cr *countingReader, format string) error {
	for dec.More() {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		line := cr.lineAt(start)
		if err != nil {
			return fr.documentError(cr, err)
		}
		f, ok := fr.item(raw, line, stamp{})
		switch {
		case !ok && fr.format == "":
			return fmt.Errorf("%w: the item at line %d is %s, not an audit Event or a CloudWatch Logs record", ErrUnrecognised, line, jsonKind(raw))
		case !ok:
			fr.st.Events++
			fr.malformed(line, "JSON but not an audit event")
		case fr.format == "":
			fr.format = format
			if format == FormatJSONArray && f == FormatEventList {
				fr.format = FormatEventList
			}
		}
		cr.drop(dec.InputOffset())
	}
	if _, err := dec.Token(); err != nil { // ']'
		return fr.documentError(cr, err)
	}
	return nil
}

// jsonKind names the kind of a JSON value for a message.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "JSON but not one"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "JSON null"
	}
	return "a JSON number"
}

// listFormats are the keys of a document's list of records, and the format
// each makes the input.
var listFormats = map[string]string{
	"items":   FormatEventList,       // EventList
	"events":  FormatCloudWatchAPI,   // aws logs filter-log-events, get-log-events
	"results": FormatInsightsResults, // aws logs get-query-results
}

// object reads an object whose '{' was read at line, up to its '}'. Its
// list of records ("items" of an EventList, "events" of a CloudWatch API
// page, "results" of Logs Insights) is read one item at a time; the other
// keys are kept (up to maxDocumentKeys) and, when there was no list,
// decoded as one event or CloudWatch record.
func (fr *fileReader) object(dec *json.Decoder, cr *countingReader, line int64) error {
	rest := make(map[string]json.RawMessage)
	listKey := ""
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fr.documentError(cr, err)
		}
		key, _ := tok.(string)
		if format, isList := listFormats[key]; isList && listKey == "" {
			listKey = key
			tok, err := dec.Token()
			if err != nil {
				return fr.documentError(cr, err)
			}
			if tok == json.Delim('[') {
				if err := fr.items(dec, cr, format); err != nil {
					return err
				}
				continue
			}
			if tok != nil { // "items": null is an empty list
				// The decoder may be inside the value: stop here.
				if err := fr.notAuditDocument(line, "its "+key+" is not a list"); err != nil {
					return err
				}
				return errStop
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fr.documentError(cr, err)
		}
		if len(rest) < maxDocumentKeys {
			rest[key] = raw
		}
		cr.drop(dec.InputOffset())
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fr.documentError(cr, err)
	}
	if listKey != "" {
		if kind, ok := rest["kind"]; ok && (listKey != "items" || string(kind) != `"EventList"`) && fr.format == "" {
			return fr.notAuditDocument(line, "it has "+listKey+" but kind "+string(kind))
		}
		if fr.format == "" {
			fr.format = listFormats[listKey]
		}
		return nil
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		fr.st.Events++
		fr.malformed(line, jsonProblem(err))
		return nil
	}
	if _, ok := fr.decoded(&rec, b, line, stamp{}); !ok {
		if fr.format == "" {
			return fr.notAuditDocument(line, "")
		}
		fr.malformed(line, "JSON but not an audit event")
		return nil
	}
	if fr.format == "" {
		fr.format = FormatPrettyEvent
	}
	return nil
}

func (fr *fileReader) notAuditDocument(line int64, why string) error {
	if fr.format != "" {
		fr.malformed(line, "JSON but not an audit event or EventList")
		return nil
	}
	if why != "" {
		why = ": " + why
	}
	return fmt.Errorf("%w: the JSON document at line %d is neither an audit Event, an EventList nor a CloudWatch Logs record%s", ErrUnrecognised, line, why)
}

// documentError ends document mode: a read error is returned as is; a
// syntax error (or the input ending inside a value) is a malformed line
// (errStop), or makes the input unrecognised when nothing was recognised
// before.
func (fr *fileReader) documentError(cr *countingReader, err error) error {
	if cr.err != nil {
		return cr.err
	}
	line := cr.totalLines()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line = cr.lineAt(se.Offset - 1)
	}
	reason := jsonProblem(err)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		reason = "the JSON document ends early"
	}
	if fr.format == "" && fr.st.Events == 0 {
		return fmt.Errorf("%w: line %d: %s", ErrUnrecognised, line, reason)
	}
	fr.malformed(line, reason)
	return errStop
}
