package staletoken

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// opensDocument reports whether a first line starts a JSON value that goes
// on over the next lines: "{" alone, or a pretty-printer's first line
// ({"kind": "EventList", ...) ending in a comma, colon or bracket.
func opensDocument(t []byte) bool {
	if t[0] != '{' {
		return false
	}
	switch t[len(t)-1] {
	case '{', '[', ',', ':':
		return !json.Valid(t)
	}
	return false
}

// maxPrefix bounds the words read before the JSON on a prefixed line.
const maxPrefix = 1024

// textBeforeJSON reports whether t is printable words followed by a JSON
// object: "<time> <stream> {...}" (aws logs tail), "EVENTS\t...\t{...}\t..."
// (aws --output text), "<time>\t<tag>\t{...}" (Fluentd out_file).
func textBeforeJSON(t []byte) bool {
	i := bytes.IndexByte(t, '{')
	return i > 0 && i <= maxPrefix && printable(t[:i])
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// cliBookkeeping reports whether t is a row aws --output text prints around
// the log events: SEARCHEDLOGSTREAMS rows, a NextToken row, or
// get-log-events' backward and forward tokens ("b/...\tf/...").
func cliBookkeeping(t []byte) bool {
	first, _, _ := bytes.Cut(t, []byte("\t"))
	switch string(first) {
	case "SEARCHEDLOGSTREAMS", "NEXTTOKEN":
		return true
	}
	return bytes.HasPrefix(t, []byte("b/")) && bytes.Contains(t, []byte("\tf/"))
}

// isLegacy reports whether t is a line of kube-apiserver's legacy audit
// format: "<time> AUDIT: id=... stage=...".
func isLegacy(t []byte) bool {
	_, rest, ok := bytes.Cut(t, []byte(" "))
	return ok && bytes.HasPrefix(rest, []byte("AUDIT: id="))
}

const legacyProblem = "kube-apiserver's legacy text audit format (--audit-log-format=legacy), which does not record annotations, so it cannot show stale tokens"

// prefixedLine handles a line that is not one JSON object: words before a
// JSON object (a time, a stream name, a tag), or tab-separated fields of
// which some are JSON objects (aws --output text, which may also put several
// messages on one line).
func (fr *fileReader) prefixedLine(t []byte, n int64) error {
	if cliBookkeeping(t) {
		return nil
	}
	if isLegacy(t) {
		if fr.format == "" {
			return fmt.Errorf("%w: line %d is in %s; set --audit-log-format=json (the default) on the API server and read that log", ErrUnrecognised, n, legacyProblem)
		}
		fr.malformed(n, "a line in "+legacyProblem)
		return nil
	}
	i := bytes.IndexByte(t, '{')
	if i < 0 || i > maxPrefix || !printable(t[:i]) {
		if isDigit(t[0]) {
			fr.malformed(n, "not a JSON object, nor a time and a JSON object")
		} else {
			fr.malformed(n, "not a JSON object")
		}
		return nil
	}
	var objects [][]byte
	var when stamp
	onlyTime, nwords := false, 0
	if bytes.IndexByte(t, '\t') >= 0 {
		for _, f := range bytes.Split(t, []byte("\t")) {
			f = bytes.TrimSpace(f)
			switch {
			case len(f) > 0 && f[0] == '{':
				objects = append(objects, f)
				continue
			case !when.ok:
				when.t, when.ok = parseStamp(string(f))
			}
			nwords++
		}
	} else {
		words := bytes.Fields(t[:i])
		for _, w := range words {
			if when.t, when.ok = parseStamp(string(w)); when.ok {
				break
			}
		}
		onlyTime, nwords = len(words) == 1 && when.ok, len(words)
		objects = [][]byte{t[i:]}
	}
	for _, obj := range objects {
		format, err := fr.jsonLine(obj, n, when)
		if err != nil {
			return err
		}
		if format != "" && fr.format == "" {
			switch {
			case onlyTime:
				fr.format = FormatTimePrefix
			case nwords > 0:
				fr.format = FormatPrefixed
			default: // JSON objects separated by tabs
				fr.format = format
			}
		}
	}
	return nil
}

// csvColumns are the column names that make a first line a CSV header.
var csvColumns = map[string]bool{
	"@timestamp": true, "@message": true, "@logStream": true, "@log": true,
	"subject": true, "elapsedtime": true, "auditID": true, "message": true, "timestamp": true,
	FlattenedAnnotationKey: true,
}

// isCSVHeader reports whether t is the header row of a CSV export naming at
// least one column tokenguard reads.
func isCSVHeader(t []byte) bool {
	if bytes.IndexByte(t, ',') < 0 || !printable(t) {
		return false
	}
	for _, f := range strings.Split(string(t), ",") {
		if csvColumns[strings.Trim(strings.TrimSpace(f), `"`)] {
			return true
		}
	}
	return false
}

// readCSV reads a CSV table with a header row: each row becomes an object
// keyed by column and is read like a JSON record (an @message holding the
// event, the flattened annotation, or the EKS query's subject and
// elapsedtime).
func (fr *fileReader) readCSV(r io.Reader) error {
	lc := &lineCounter{r: r}
	defer func() { fr.st.Lines = lc.total() }()
	cr := csv.NewReader(lc)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%w: a CSV header that cannot be read: %v", ErrUnrecognised, err)
	}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
	}
	fr.format = FormatCSV
	max := fr.a.maxLine()
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			fr.malformed(int64(pe.StartLine), "invalid CSV: "+pe.Err.Error())
			continue
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		size := 0
		obj := make(map[string]string, len(row))
		for i, v := range row {
			size += len(v)
			if i < len(names) && names[i] != "" && v != "" {
				obj[names[i]] = v
			}
		}
		if size > max {
			fr.malformed(int64(line), fmt.Sprintf("longer than %d bytes", max))
			continue
		}
		if len(obj) == 0 {
			continue
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		if _, ok := fr.item(b, int64(line), stamp{}); !ok {
			fr.malformed(int64(line), "a CSV row that is not an audit event")
		}
	}
}

// lineCounter counts the lines read through it.
type lineCounter struct {
	r     io.Reader
	lines int64
	last  byte
	any   bool
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 {
		l.lines += int64(bytes.Count(p[:n], []byte("\n")))
		l.last, l.any = p[n-1], true
	}
	return n, err
}

func (l *lineCounter) total() int64 {
	if l.any && l.last != '\n' {
		return l.lines + 1
	}
	return l.lines
}
