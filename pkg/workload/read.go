package workload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Result is what reading manifests found. Reading never stops at an error:
// Workloads holds every valid workload of every readable document.
type Result struct {
	Workloads []Workload
	// Skipped counts documents (or List items) of non-workload kinds, by
	// kind. Lists themselves are not counted. Nil when nothing was skipped.
	Skipped map[string]int
	Errors  []*DocError
}

func (r *Result) merge(o Result) {
	r.Workloads = append(r.Workloads, o.Workloads...)
	r.Errors = append(r.Errors, o.Errors...)
	for k, n := range o.Skipped {
		r.skip(k, n)
	}
}

func (r *Result) skip(kind string, n int) {
	if r.Skipped == nil {
		r.Skipped = make(map[string]int)
	}
	r.Skipped[kind] += n
}

// Read reads manifests from paths, in order: a file (whatever its name), a
// directory (walked recursively in lexical order, reading *.yaml, *.yml and
// *.json files and skipping hidden files and directories, i.e. names
// starting with "."), or "-" for stdin. A path that cannot be read is a
// DocError with Document 0; the other paths are read all the same.
func Read(paths []string, stdin io.Reader) Result {
	var res Result
	for _, p := range paths {
		if p == "-" {
			if stdin == nil {
				res.Errors = append(res.Errors, &DocError{Source: p, Err: ErrNoStdin})
				continue
			}
			res.merge(Decode(p, stdin))
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			res.Errors = append(res.Errors, pathError(p, err))
			continue
		}
		if fi.IsDir() {
			res.merge(readDir(p))
			continue
		}
		res.merge(readFile(p))
	}
	return res
}

func readDir(root string) Result {
	var res Result
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			res.Errors = append(res.Errors, pathError(path, err))
			return nil
		}
		name := d.Name()
		if path != root && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isManifestName(name) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Read linked files; do not follow links to directories.
			fi, err := os.Stat(path)
			if err != nil {
				res.Errors = append(res.Errors, pathError(path, err))
				return nil
			}
			if fi.IsDir() {
				return nil
			}
		}
		res.merge(readFile(path))
		return nil
	})
	if err != nil {
		res.Errors = append(res.Errors, pathError(root, err))
	}
	return res
}

func isManifestName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func readFile(path string) Result {
	f, err := os.Open(path)
	if err != nil {
		return Result{Errors: []*DocError{pathError(path, err)}}
	}
	defer f.Close()
	return Decode(path, f)
}

// pathError reports a path that cannot be read; the path already names the
// file, so a *fs.PathError is reduced to its cause ("no such file or
// directory").
func pathError(path string, err error) *DocError {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err
	}
	return &DocError{Source: path, Err: err}
}

// Decode reads one stream of manifests; source names it in Workloads and
// errors.
//
// The stream is YAML documents separated by "---" lines, or JSON (a JSON
// document may hold several concatenated objects). Documents are numbered
// from 1 in the order they appear: a section between separators that holds
// only whitespace is not counted (so a leading or trailing "---" shifts
// nothing), a comment-only section is counted but yields nothing, and each
// object of a concatenated JSON stream counts as one document. Line numbers
// in YAML syntax errors are relative to the document. A YAML syntax error
// loses only its own document; a JSON syntax error loses the rest of its
// JSON stream (up to the next "---" line).
//
// Each document must have apiVersion and kind. Lists ("kind: List", and any
// *List kind with items, whose items may then omit apiVersion and kind) are
// expanded into their items. Workload kinds (see FromObject) are decoded
// into their typed v1 form, tolerating unknown fields, and checked: at least
// one container, an image on every container. Other kinds are counted in
// Result.Skipped.
func Decode(source string, r io.Reader) Result {
	d := decoder{source: source}
	s := newSplitter(r, MaxDocumentSize)
	defer s.release()
	for {
		data, tooLarge, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			d.doc++
			d.fail(0, "", "", fmt.Errorf("read: %w (the rest of the input was not read)", err))
			break
		}
		d.doc++
		d.startLine = s.start
		if tooLarge {
			d.fail(0, "", "", fmt.Errorf("%w: over %d MiB", ErrTooLarge, MaxDocumentSize>>20))
			continue
		}
		d.section(data)
	}
	return d.res
}

type decoder struct {
	source    string
	doc       int
	startLine int // line of the file where the current document starts
	res       Result
}

func (d *decoder) fail(item int, object, field string, err error) {
	d.res.Errors = append(d.res.Errors, &DocError{
		Source: d.source, Document: d.doc, Item: item, Object: object, Field: field, Err: err,
	})
}

// section decodes the text between two document markers.
func (d *decoder) section(data []byte) {
	if firstByte(data) == '{' && d.jsonStream(data) {
		return
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		d.fail(0, "", "", fileLine(err, d.startLine))
		return
	}
	d.object(j, 0, "", "")
}

// jsonStream decodes data as concatenated JSON objects, one document each.
// It returns false, having decoded nothing, when the first object is not
// valid JSON: the caller then reads data as YAML (a flow mapping such as
// "{kind: Pod}" starts with "{" too).
func (d *decoder) jsonStream(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return true
		}
		if err != nil && n == 0 {
			return false
		}
		if n > 0 {
			d.doc++
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				err = fmt.Errorf("json: offset %d: %w", se.Offset, err)
			} else if !strings.HasPrefix(err.Error(), "json") {
				err = fmt.Errorf("json: %w", err)
			}
			d.fail(0, "", "", fmt.Errorf("%w (the rest of this JSON stream was not read)", err))
			return true
		}
		d.object(raw, 0, "", "")
	}
}

// header is the part of every object read before its kind is known.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items json.RawMessage `json:"items"`
}

// object decodes one JSON object. item is its 1-based index in a List (0
// outside Lists); listAPIVersion and listKind are that List's.
func (d *decoder) object(data []byte, item int, listAPIVersion, listKind string) {
	switch firstByte(data) {
	case 0, 'n': // empty or comment-only YAML, or JSON null
		return
	case '{':
	default:
		d.fail(item, "", "", ErrNotObject)
		return
	}
	var h header
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &h); err != nil {
		field, err := decodeError(err)
		d.fail(item, "", field, err)
		return
	}
	if item > 0 && listKind != "List" {
		// Items of a typed list (DeploymentList) may omit apiVersion and kind.
		if h.Kind == "" {
			h.Kind = strings.TrimSuffix(listKind, "List")
		}
		if h.APIVersion == "" {
			h.APIVersion = listAPIVersion
		}
	}
	object := objectName(h.Kind, h.Metadata.Namespace, h.Metadata.Name)
	switch {
	case h.Kind == "":
		d.fail(item, "", "kind", ErrRequired)
		return
	case h.APIVersion == "":
		d.fail(item, object, "apiVersion", ErrRequired)
		return
	}
	if item == 0 && (h.Kind == "List" || strings.HasSuffix(h.Kind, "List") && len(h.Items) > 0) {
		d.list(h)
		return
	}
	isWorkload, supported := classify(h.APIVersion, h.Kind)
	if !isWorkload {
		w, ok := podTemplateCRD(h.APIVersion, h.Kind, data)
		if !ok {
			d.res.skip(h.Kind, 1)
			return
		}
		d.add(w, item, object)
		return
	}
	if !supported {
		d.fail(item, object, "apiVersion", unsupportedVersion(h.APIVersion, h.Kind))
		return
	}
	obj := newV1Object(h.Kind)
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, obj); err != nil {
		field, err := decodeError(err)
		d.fail(item, object, field, err)
		return
	}
	w, _, _ := FromObject(obj)
	w.APIVersion, w.Kind = h.APIVersion, h.Kind
	d.add(w, item, object)
}

// add validates w, read from item of the current document, and keeps it.
func (d *decoder) add(w Workload, item int, object string) {
	w.Source, w.Document, w.Item = d.source, d.doc, item
	if errs := validate(&w); len(errs) > 0 {
		for _, fe := range errs {
			d.fail(item, object, fe.field, fe.err)
		}
		return
	}
	d.res.Workloads = append(d.res.Workloads, w)
}

// list expands the items of a List; nested Lists are not expanded (they
// are counted in Skipped).
func (d *decoder) list(h header) {
	if len(h.Items) == 0 {
		return
	}
	var items []json.RawMessage
	if err := kjson.UnmarshalCaseSensitivePreserveInts(h.Items, &items); err != nil {
		_, err := decodeError(err)
		d.fail(0, objectName(h.Kind, h.Metadata.Namespace, h.Metadata.Name), "items", err)
		return
	}
	for i, it := range items {
		d.object(it, i+1, h.APIVersion, h.Kind)
	}
}

// decodeError turns a JSON type mismatch into its field path and a short
// message ("wrong type: got string, want array").
func decodeError(err error) (field string, _ error) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field, fmt.Errorf("%w: got %s, want %s", ErrWrongType, te.Value, jsonTypeName(te.Type))
	}
	return "", err
}

func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return t.String()
}

// firstByte returns the first byte that is not whitespace, or 0.
func firstByte(data []byte) byte {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// fileLine rewrites the document-relative line of a YAML error
// ("yaml: line 3: ...") to the line of the file, where an editor finds it.
func fileLine(err error, start int) error {
	msg := err.Error()
	const marker = "yaml: line "
	i := strings.Index(msg, marker)
	if i < 0 || start < 1 {
		return err
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, ':')
	if j < 0 {
		return err
	}
	n, convErr := strconv.Atoi(rest[:j])
	if convErr != nil {
		return err
	}
	return &lineError{msg: msg[:i] + marker + strconv.Itoa(n+start-1) + rest[j:], err: err}
}

// lineError is a YAML error whose text names the line of the file.
type lineError struct {
	msg string
	err error
}

func (e *lineError) Error() string { return e.msg }
func (e *lineError) Unwrap() error { return e.err }
