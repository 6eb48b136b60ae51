package staletoken

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
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
	// FormatCloudWatchAPI: pages of aws logs filter-log-events or
	// get-log-events (--output json), {"events":[{"message":...}]}.
	FormatCloudWatchAPI = "cloudwatch-api"
	// FormatInsightsResults: aws logs get-query-results,
	// {"results":[[{"field":...,"value":...}]]}.
	FormatInsightsResults = "insights-results"
	// FormatPrefixed: words before (and after) the event JSON on its line:
	// aws logs tail, aws logs filter-log-events --output text, Fluentd's
	// out_file (time, tag, JSON separated by tabs).
	FormatPrefixed = "prefixed-json"
	// FormatCSV: a CSV table with a header row, as the Logs Insights console
	// exports ("@timestamp,@message" or the EKS query's
	// "@timestamp,subject,elapsedtime").
	FormatCSV = "csv"
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
	recent   RecentIDs
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
	Format string `json:"format"`
	Lines  int64  `json:"lines"`
	Events int64  `json:"events"`
	// StaleEvents counts stale-token requests: the further stages of a
	// request already counted (same auditID) are DuplicateStaleEvents.
	StaleEvents          int64 `json:"staleEvents"`
	DuplicateStaleEvents int64 `json:"duplicateStaleEvents"`
	Malformed            int64 `json:"malformed"`
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
//   - a first line "{", starting with "[" or an unfinished pretty-printed
//     object starts document mode: JSON values spanning lines (a
//     pretty-printed EventList, event or array, pages of the CloudWatch API
//     or of Logs Insights results), decoded one item at a time;
//   - a first line of words before a JSON object (aws logs tail, aws
//     --output text, Fluentd's out_file) reads the JSON after the words;
//   - a first line that is a CSV header naming known columns (@timestamp,
//     @message, subject, elapsedtime, ...) reads CSV rows.
//
// The stages of one request (same auditID) count once, across files.
// Lines without the annotation are only checked to be JSON objects. Lines
// that are not, longer than MaxLineBytes, with a malformed annotation value,
// without a timestamp, or that mention "seconds after warning threshold"
// where no annotation is read are counted in FileStats.Malformed, never
// fatal. The error wraps ErrUnrecognised when the input is not an audit log
// (binary data, JSON that is neither events nor EventList nor CloudWatch
// records, kube-apiserver's legacy text format); any other error is a read
// error naming the line it stopped after. Events read before an error still
// count.
func (a *Aggregator) Read(source string, r io.Reader) (FileStats, error) {
	fr := &fileReader{a: a, st: FileStats{Source: source, MalformedLines: []int64{}}}
	err := fr.read(r)
	if err != nil && !errors.Is(err, ErrUnrecognised) {
		if fr.gzip {
			err = fmt.Errorf("the gzip data is cut short or corrupt after line %d (%w): the file may still be being written or was partly copied; the lines before it were read", fr.st.Lines, err)
		} else {
			err = fmt.Errorf("reading stopped after line %d: %w; the lines before it were read", fr.st.Lines, err)
		}
	}
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

// staleMarker is the text of every stale-token annotation value.
const staleMarker = "seconds after warning threshold"

var (
	// markers: a line with none of these holds no stale-token event and
	// is only validated.
	markers = [][]byte{[]byte("stale-token"), []byte(staleMarker), []byte(`"items"`),
		[]byte(`"events"`), []byte(`"results"`), []byte("elapsedtime")}
	staleMarkerBytes = []byte(staleMarker)
	utf8BOM          = []byte("\xef\xbb\xbf")
)

func (fr *fileReader) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%w: it starts like gzip (bytes 1f 8b) but is not valid gzip data: %v", ErrUnrecognised, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		fr.gzip = true
	}
	if peek, _ := br.Peek(64 << 10); longFirstValue(peek) {
		// A JSON document whose first line is longer than the window (an
		// EventList or array written on one line, as API clients and
		// jq -c write them) is read as a document: lines do not matter to
		// it, and MaxLineBytes must not refuse it.
		return fr.readDocument(br)
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
			prefix := append(bytes.Repeat([]byte("\n"), int(n-1)), line...)
			prefix = append(prefix, '\n')
			switch {
			case t[0] == '[' || opensDocument(t):
				return fr.readDocument(io.MultiReader(bytes.NewReader(prefix), br))
			case t[0] == '{' || isDigit(t[0]) || textBeforeJSON(t) || cliBookkeeping(t):
			case isCSVHeader(t):
				return fr.readCSV(io.MultiReader(bytes.NewReader(prefix), br))
			default:
				return fmt.Errorf("%w: it starts with %q, not JSON, CSV or gzip", ErrUnrecognised, head(t))
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

var eventListKind = regexp.MustCompile(`"kind"\s*:\s*"EventList"`)

// longFirstValue reports whether peek, the start of the input, opens a
// JSON array or object on a first line longer than peek.
func longFirstValue(peek []byte) bool {
	t := bytes.TrimLeft(bytes.TrimPrefix(peek, utf8BOM), " \t\r\n")
	if len(t) == 0 || len(peek) < 64<<10 || bytes.IndexByte(t, '\n') >= 0 {
		return false
	}
	return t[0] == '[' || t[0] == '{' && eventListKind.Match(t)
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
	// JSON text never holds a raw tab: a line with one is tab-separated
	// fields (aws --output text), unless it is plain invalid JSON.
	if t[0] == '{' && (bytes.IndexByte(t, '\t') < 0 || json.Valid(t)) {
		format, err := fr.jsonLine(t, n, stamp{})
		if err == nil && format != "" && fr.format == "" {
			fr.format = format
		}
		return err
	}
	return fr.prefixedLine(t, n)
}

// jsonLine handles one JSON object found on line n; fallback is a time found
// outside it. It returns the format of the first record recognised.
func (fr *fileReader) jsonLine(t []byte, n int64, fallback stamp) (string, error) {
	// Fast path: only lines that mention the annotation (or hold a list of
	// events) are decoded; the others are only validated.
	if fr.format != "" && !containsAny(t, markers) {
		switch {
		case len(t) == 0 || t[0] != '{':
			fr.malformed(n, "not a JSON object")
		case json.Valid(t):
			fr.st.Events++
		default:
			fr.malformed(n, "invalid JSON: the line is cut short or corrupt")
		}
		return "", nil
	}
	var rec record
	if err := json.Unmarshal(t, &rec); err != nil {
		if fr.format != "" && bytes.Contains(t, staleMarkerBytes) {
			// A cut line may still hold the annotation.
			fr.st.Events++
			fr.scan(t, n, fallback, jsonProblem(err))
			return "", nil
		}
		fr.malformed(n, jsonProblem(err))
		return "", nil
	}
	format, ok := fr.decoded(&rec, t, n, fallback)
	if !ok {
		if fr.format == "" {
			return "", fmt.Errorf("%w: line %d is JSON but not an audit Event, an EventList or a CloudWatch Logs record", ErrUnrecognised, n)
		}
		fr.malformed(n, "JSON but not an audit event")
		return "", nil
	}
	return format, nil
}

// decoded handles one decoded object whose text is raw: record, then, when
// the text mentions the annotation but no stale-token event (or problem)
// came of it, a scan of the text, so that such a line is never dropped
// silently.
func (fr *fileReader) decoded(rec *record, raw []byte, n int64, fallback stamp) (string, bool) {
	before := fr.st.StaleEvents + fr.st.DuplicateStaleEvents + fr.st.Malformed
	format, ok := fr.record(rec, n, fallback)
	if fr.st.StaleEvents+fr.st.DuplicateStaleEvents+fr.st.Malformed == before && bytes.Contains(raw, staleMarkerBytes) {
		if !ok {
			fr.st.Events++
		}
		if rt := rec.recordTime(); rt.ok {
			fallback = rt
		}
		fr.scan(raw, n, fallback, "")
		return format, true
	}
	return format, ok
}

// record handles one decoded object; ok is false when it is not an audit
// event, a list of them or a log record holding one. fallback is a time
// found outside the object (a line's time prefix).
func (fr *fileReader) record(rec *record, n int64, fallback stamp) (format string, ok bool) {
	if rt := rec.recordTime(); rt.ok {
		fallback = rt
	}
	switch {
	case rec.isEventList():
		fr.list(rec.Items, n, fallback, "EventList items")
		return FormatEventList, true
	case rec.Events != nil && rec.Kind == "":
		fr.list(rec.Events, n, fallback, "events")
		return FormatCloudWatchAPI, true
	case rec.Results != nil && rec.Kind == "":
		fr.list(rec.Results, n, fallback, "results")
		return FormatInsightsResults, true
	}
	if msg, ok := rec.wrapped(); ok {
		if !strings.Contains(msg, "stale-token") && !strings.Contains(msg, staleMarker) {
			fr.st.Events++
			return FormatCloudWatch, true
		}
		var ev record
		if err := json.Unmarshal([]byte(msg), &ev); err != nil {
			// A message cut by the log pipeline may still hold the
			// annotation.
			fr.st.Events++
			fr.scan([]byte(msg), n, fallback, "the logged message is not a JSON audit event ("+jsonProblem(err)+")")
			return FormatCloudWatch, true
		}
		fr.event(&ev, n, fallback)
		return FormatCloudWatch, true
	}
	if rec.looksLikeEvent() {
		fr.event(rec, n, fallback)
		if rec.FlatStaleToken != nil || rec.FlatUsername != "" || rec.Timestamp.ok || rec.LogStream != "" {
			return FormatFlattened, true
		}
		return FormatEvents, true
	}
	return "", false
}

// list reads the items of a list found on one line: events, log records,
// or Logs Insights rows ([{"field":...,"value":...}]).
func (fr *fileReader) list(raw json.RawMessage, n int64, fallback stamp, what string) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		fr.malformed(n, what+" is not a list")
		return
	}
	for _, it := range items {
		if _, ok := fr.item(it, n, fallback); !ok {
			fr.st.Events++
			fr.malformed(n, what+": an item is JSON but not an audit event")
		}
	}
}

// item handles one item of a list: an object, or a Logs Insights row (a
// list of {"field","value"}). ok is false when it is neither an audit event
// nor a log record holding one; a malformed item is counted and ok.
func (fr *fileReader) item(raw json.RawMessage, n int64, fallback stamp) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		obj, err := insightsRow(raw)
		if err != nil {
			return "", false
		}
		raw = obj
	}
	if len(raw) == 0 || raw[0] != '{' {
		return "", false
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
		fr.st.Events++
		fr.malformed(n, jsonProblem(err))
		return "", true
	}
	return fr.decoded(&rec, raw, n, fallback)
}

// insightsRow turns a Logs Insights result row, [{"field":"@timestamp",
// "value":"..."},...], into an object keyed by field.
func insightsRow(raw []byte) ([]byte, error) {
	var fields []struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	obj := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		if f.Field == "" {
			return nil, errors.New("a row field without a name")
		}
		if f.Value != nil {
			obj[f.Field] = f.Value
		}
	}
	return json.Marshal(obj)
}

// event counts one audit event and aggregates its annotation, if any.
func (fr *fileReader) event(ev *record, n int64, fallback stamp) {
	fr.st.Events++
	v, ok := ev.staleToken()
	if !ok {
		return
	}
	t, ok := ev.time()
	if !ok {
		t, ok = fallback.t, fallback.ok
	}
	fr.stale(v, ev.AuditID, t, ok, ev.pods(), n)
}

// stale aggregates one annotation value logged at t (if known) by the
// request auditID (if known).
func (fr *fileReader) stale(value, auditID string, t time.Time, timed bool, pods []string, n int64) {
	subject, seconds, err := ParseAnnotation(value)
	if err != nil {
		fr.malformed(n, err.Error())
		return
	}
	if !timed {
		fr.malformed(n, "stale-token event without stageTimestamp, requestReceivedTimestamp or a log record time (@timestamp, timestamp)")
		return
	}
	agg := fr.a.subjects[subject]
	if agg == nil {
		if fr.a.subjects == nil {
			fr.a.subjects = make(map[string]*subjectAgg)
		}
		agg = &subjectAgg{}
		fr.a.subjects[subject] = agg
	}
	if fr.a.recent.Seen(auditID) {
		// Another stage of a request already counted.
		fr.st.DuplicateStaleEvents++
		agg.touch(t, seconds, pods, fr.a.maxPods())
		return
	}
	fr.st.StaleEvents++
	agg.add(t, seconds, pods, fr.a.maxPods())
}

// scan looks for the annotation value in text a log pipeline did not keep
// as an audit event (a cut message, an unknown wrapper) and aggregates it
// at fallback's time. When none can be read, or there is no time, it counts
// the line malformed with problem (or its own reason) and returns false.
func (fr *fileReader) scan(text []byte, n int64, fallback stamp, problem string) bool {
	value, ok := scanAnnotation(text)
	if !ok {
		if problem == "" {
			problem = "it mentions \"seconds after warning threshold\" but holds no stale-token annotation where audit events keep it (annotations, @message, message, log, or the flattened annotations.authentication.k8s.io/stale-token)"
		}
		fr.malformed(n, problem)
		return false
	}
	if !fallback.ok {
		reason := "a stale-token annotation outside any audit event it could read, and no time for it"
		if problem != "" {
			reason = problem + ", and no time for its stale-token annotation"
		}
		fr.malformed(n, reason)
		return false
	}
	fr.stale(value, "", fallback.t, true, nil, n)
	return true
}

// scanAnnotation finds "subject: <s>, seconds after warning threshold: <n>"
// in text (escaped or not) and returns it.
func scanAnnotation(text []byte) (string, bool) {
	i := bytes.Index(text, staleMarkerBytes)
	if i < 0 {
		return "", false
	}
	lo := i - 512
	if lo < 0 {
		lo = 0
	}
	j := bytes.LastIndex(text[lo:i], []byte("subject:"))
	if j < 0 {
		return "", false
	}
	start := lo + j
	k := i + len(staleMarker)
	for k < len(text) && (text[k] == ' ' || text[k] == ':') {
		k++
	}
	for k < len(text) && (isDigit(text[k]) || text[k] == '.') {
		k++
	}
	return string(text[start:k]), true
}

func containsAny(b []byte, subs [][]byte) bool {
	for _, s := range subs {
		if bytes.Contains(b, s) {
			return true
		}
	}
	return false
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
