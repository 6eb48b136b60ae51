package staletoken

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Defaults of Aggregator.
const (
	// DefaultMaxLineBytes is the longest line read; longer lines are
	// counted malformed and skipped.
	DefaultMaxLineBytes = 4 << 20
	// MaxMalformedLines is how many malformed line numbers (and reasons)
	// a FileStats keeps; Malformed counts them all.
	MaxMalformedLines = 20
	// maxDocumentKeys bounds the top-level keys kept of a multi-line JSON
	// object that is not an EventList (a single pretty-printed event).
	maxDocumentKeys = 1024
)

// ErrUnrecognised is wrapped by Read when the input is not an audit log in
// any format it knows.
var ErrUnrecognised = errors.New("not an audit log")

// Formats, as FileStats.Format names them ("gzip+" is prefixed when the
// input was gzip-compressed).
const (
	FormatEvents      = "audit-events"         // audit.k8s.io/v1 Event per line
	FormatEventList   = "eventlist"            // EventList per line, or one multi-line document
	FormatJSONArray   = "json-array"           // a JSON array of events or CloudWatch records
	FormatCloudWatch  = "cloudwatch"           // CloudWatch Logs records, the event in @message
	FormatFlattened   = "cloudwatch-flattened" // CloudWatch records, the event flattened into keys
	FormatTimePrefix  = "timestamp-prefixed"   // "<RFC 3339 time> <event JSON>" (CloudWatch export to S3)
	FormatPrettyEvent = "json-documents"       // multi-line (pretty-printed) JSON objects
)

// Aggregator reads audit logs and aggregates stale-token events by subject.
// It keeps one small aggregate per service account, never the events. Not
// safe for concurrent use.
type Aggregator struct {
	// MaxLineBytes is the longest line read; zero means DefaultMaxLineBytes.
	MaxLineBytes int
	// MaxPods is how many distinct pod names a Subject lists; zero means
	// DefaultMaxPods.
	MaxPods int

	subjects map[string]*subjectAgg
	files    []FileStats
}

// NewAggregator returns an empty Aggregator with the defaults.
func NewAggregator() *Aggregator {
	return &Aggregator{subjects: make(map[string]*subjectAgg)}
}

// FileStats is what reading one input found.
type FileStats struct {
	Source string `json:"path"`
	// Format is how the input was read (Format* constants), "" if no
	// record was recognised.
	Format      string `json:"format"`
	Lines       int64  `json:"lines"`
	Events      int64  `json:"events"`
	StaleEvents int64  `json:"staleEvents"`
	Malformed   int64  `json:"malformed"`
	// MalformedLines holds the first MaxMalformedLines malformed line
	// numbers; Problems the same lines with the reason.
	MalformedLines []int64     `json:"malformedLines"`
	Problems       []LineError `json:"-"`
}

// LineError is one malformed line.
type LineError struct {
	Line   int64
	Reason string
}

func (e LineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Files returns the statistics of every input read, in order.
func (a *Aggregator) Files() []FileStats { return a.files }

func (a *Aggregator) maxLine() int {
	if a.MaxLineBytes > 0 {
		return a.MaxLineBytes
	}
	return DefaultMaxLineBytes
}

func (a *Aggregator) maxPods() int {
	if a.MaxPods > 0 {
		return a.MaxPods
	}
	return DefaultMaxPods
}

// Read reads one audit log from r, named source, and adds its stale-token
// events to the aggregates. The format is detected from the content, never
// the name:
//
//   - gzip (magic bytes 1f 8b, concatenated members too) is decompressed
//     first;
//   - a first line that is a JSON object starts line mode: each line is an
//     audit Event, an EventList, a CloudWatch Logs record with the event in
//     "@message" (a JSON string) or flattened into top-level keys
//     ("annotations.authentication.k8s.io/stale-token"), optionally after
//     an RFC 3339 time and a space (CloudWatch's export to S3);
//   - a first line "{" or starting with "[" starts document mode: JSON
//     values spanning lines (a pretty-printed EventList, event or array),
//     decoded one item at a time.
//
// Lines without "stale-token" are only checked to be JSON objects. Lines
// that are not, longer than MaxLineBytes, with a malformed annotation value
// or without a timestamp are counted in FileStats.Malformed, never fatal.
// The error wraps ErrUnrecognised when the input is not an audit log (binary
// data, JSON that is neither events nor EventList nor CloudWatch records);
// any other error is a read error. Events read before an error still count.
func (a *Aggregator) Read(source string, r io.Reader) (FileStats, error) {
	fr := &fileReader{a: a, st: FileStats{Source: source, MalformedLines: []int64{}}}
	err := fr.read(r)
	if fr.format != "" {
		fr.st.Format = fr.format
		if fr.gzip {
			fr.st.Format = "gzip+" + fr.format
		}
	}
	a.files = append(a.files, fr.st)
	return fr.st, err
}

// fileReader is the state of reading one input.
type fileReader struct {
	a      *Aggregator
	st     FileStats
	format string
	gzip   bool
}

var (
	staleBytes = []byte("stale-token")
	itemsBytes = []byte(`"items"`)
	utf8BOM    = []byte("\xef\xbb\xbf")
)

func (fr *fileReader) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		fr.gzip = true
	}
	lr := lineReader{br: br, max: fr.a.maxLine()}
	started := false
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		fr.st.Lines++
		n := fr.st.Lines
		if tooLong {
			fr.malformed(n, fmt.Sprintf("longer than %d bytes", lr.max))
			continue
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		t := bytes.TrimSpace(line)
		if len(t) == 0 {
			continue
		}
		if !started {
			started = true
			switch {
			case t[0] == '[' || (len(t) == 1 && t[0] == '{'):
				prefix := append(bytes.Repeat([]byte("\n"), int(n-1)), line...)
				prefix = append(prefix, '\n')
				return fr.readDocument(io.MultiReader(bytes.NewReader(prefix), br))
			case t[0] == '{' || isDigit(t[0]):
			default:
				return fmt.Errorf("%w: it starts with %q, not JSON or gzip", ErrUnrecognised, head(t))
			}
		}
		if err := fr.line(t, n); err != nil {
			return err
		}
	}
	if fr.format == "" && fr.st.Malformed > 0 {
		return fmt.Errorf("%w: no audit event in %d lines (first problem: %s)", ErrUnrecognised, fr.st.Lines, fr.st.Problems[0])
	}
	return nil
}

func head(b []byte) []byte {
	if len(b) > 8 {
		return b[:8]
	}
	return b
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (fr *fileReader) malformed(line int64, reason string) {
	fr.st.Malformed++
	if len(fr.st.Problems) < MaxMalformedLines {
		fr.st.Problems = append(fr.st.Problems, LineError{line, reason})
		fr.st.MalformedLines = append(fr.st.MalformedLines, line)
	}
}

// line handles one non-blank line in line mode.
func (fr *fileReader) line(t []byte, n int64) error {
	var prefixTime stamp
	prefixed := false
	if isDigit(t[0]) {
		sp := bytes.IndexByte(t, ' ')
		if sp < 0 {
			fr.malformed(n, "not a JSON object")
			return nil
		}
		if prefixTime.t, prefixTime.ok = parseStamp(string(t[:sp])); !prefixTime.ok {
			fr.malformed(n, "not a JSON object, nor a time and a JSON object")
			return nil
		}
		t, prefixed = bytes.TrimSpace(t[sp+1:]), true
	}
	// Fast path: only lines that mention the annotation (or hold a list of
	// events) are decoded; the others are only validated.
	if fr.format != "" && !bytes.Contains(t, staleBytes) && !bytes.Contains(t, itemsBytes) {
		if len(t) > 0 && t[0] == '{' && json.Valid(t) {
			fr.st.Events++
		} else {
			fr.malformed(n, "not a JSON object")
		}
		return nil
	}
	var rec record
	if err := json.Unmarshal(t, &rec); err != nil {
		fr.malformed(n, jsonProblem(err))
		return nil
	}
	format, ok := fr.record(&rec, n, prefixTime)
	if !ok {
		if fr.format == "" {
			return fmt.Errorf("%w: line %d is JSON but not an audit Event, an EventList or a CloudWatch Logs record", ErrUnrecognised, n)
		}
		fr.malformed(n, "JSON but not an audit event")
		return nil
	}
	if fr.format == "" {
		fr.format = format
		if prefixed {
			fr.format = FormatTimePrefix
		}
	}
	return nil
}

// record handles one decoded object; ok is false when it is not an audit
// event, EventList or CloudWatch record. fallback is a time found outside
// the object (a line's time prefix).
func (fr *fileReader) record(rec *record, n int64, fallback stamp) (format string, ok bool) {
	switch {
	case rec.isEventList():
		var items []json.RawMessage
		if err := json.Unmarshal(rec.Items, &items); err != nil {
			fr.malformed(n, "EventList items is not a list")
			return FormatEventList, true
		}
		for _, it := range items {
			var ev record
			if err := json.Unmarshal(it, &ev); err != nil {
				fr.st.Events++
				fr.malformed(n, "EventList item: "+jsonProblem(err))
				continue
			}
			fr.event(&ev, n, fallback)
		}
		return FormatEventList, true
	case rec.Message != nil:
		if rec.Timestamp.ok {
			fallback = rec.Timestamp
		}
		if !strings.Contains(*rec.Message, "stale-token") {
			fr.st.Events++
			return FormatCloudWatch, true
		}
		var ev record
		if err := json.Unmarshal([]byte(*rec.Message), &ev); err != nil {
			fr.st.Events++
			fr.malformed(n, "@message is not a JSON audit event: "+jsonProblem(err))
			return FormatCloudWatch, true
		}
		fr.event(&ev, n, fallback)
		return FormatCloudWatch, true
	case rec.looksLikeEvent():
		fr.event(rec, n, fallback)
		if rec.FlatStaleToken != nil || rec.FlatUsername != "" || rec.Timestamp.ok || rec.LogStream != "" {
			return FormatFlattened, true
		}
		return FormatEvents, true
	}
	return "", false
}

// event counts one audit event and aggregates its annotation, if any.
func (fr *fileReader) event(ev *record, n int64, fallback stamp) {
	fr.st.Events++
	v := ev.staleToken()
	if v == nil {
		return
	}
	subject, seconds, err := ParseAnnotation(*v)
	if err != nil {
		fr.malformed(n, err.Error())
		return
	}
	t, ok := ev.time()
	if !ok {
		t, ok = fallback.t, fallback.ok
	}
	if !ok {
		fr.malformed(n, "stale-token event without stageTimestamp, requestReceivedTimestamp or @timestamp")
		return
	}
	fr.st.StaleEvents++
	agg := fr.a.subjects[subject]
	if agg == nil {
		if fr.a.subjects == nil {
			fr.a.subjects = make(map[string]*subjectAgg)
		}
		agg = &subjectAgg{}
		fr.a.subjects[subject] = agg
	}
	agg.add(t, seconds, ev.pods(), fr.a.maxPods())
}

// jsonProblem shortens a decoding error to a reason for a line.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "invalid JSON: " + se.Error()
	case errors.As(err, &te):
		return fmt.Sprintf("field %q is a JSON %s, not %s", te.Field, te.Value, te.Type)
	}
	return "invalid JSON: " + err.Error()
}
