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
	"syscall"

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
	// Notes are the paths a directory walk passed over (see Walk): not
	// errors, nothing was lost that was meant to be read.
	Notes []*DocError
}

func (r *Result) skip(kind string, n int) {
	if r.Skipped == nil {
		r.Skipped = make(map[string]int)
	}
	r.Skipped[kind] += n
}

// visitor collects into r.
func (r *Result) visitor() Visitor {
	return Visitor{
		Workload: func(w Workload) error { r.Workloads = append(r.Workloads, w); return nil },
		Error:    func(e *DocError) error { r.Errors = append(r.Errors, e); return nil },
		Skipped:  func(kind string) { r.skip(kind, 1) },
		Note:     func(e *DocError) { r.Notes = append(r.Notes, e) },
	}
}

// Errors of a path rather than of a document (DocError.Err, Document 0).
var (
	// ErrNotRegular: the path is a FIFO, socket or device. Inside a
	// directory it is passed over (a Note); named on the command line it is
	// an error. It is never read: reading a FIFO blocks, /dev/zero is endless.
	ErrNotRegular = errors.New("not a regular file")
	// ErrLinkOutside: a symbolic link inside a directory leads outside that
	// directory; it is passed over (a Note).
	ErrLinkOutside = errors.New("symbolic link leads outside the directory given")
	// ErrInputTooLarge: one file (or stdin) holds more than MaxInputSize
	// bytes; what follows is not read.
	ErrInputTooLarge = errors.New("input too large")
)

// MaxInputSize caps what one file, or stdin, may hold: past it, reading that
// input stops with ErrInputTooLarge (its documents read so far count).
const MaxInputSize = 1 << 30

// maxInputSize is MaxInputSize, smaller in tests.
var maxInputSize int64 = MaxInputSize

// Visitor receives what Walk reads, as it reads it, in input order. A nil
// field ignores what it would receive. Walk stops at the first error that
// Workload or Error returns, and returns it.
type Visitor struct {
	// Workload receives each valid workload.
	Workload func(Workload) error
	// Error receives each problem with a document, or with a path
	// (Document 0).
	Error func(*DocError) error
	// Skipped receives the kind of each document (or List item) that is
	// not a workload; Lists themselves are not counted.
	Skipped func(kind string)
	// Note receives each path a directory walk passed over, with the reason
	// (ErrNotRegular, ErrLinkOutside).
	Note func(*DocError)
	// ServiceAccount, when set, receives each v1 ServiceAccount (instead of
	// Skipped): its annotations say which AWS credentials its pods get.
	ServiceAccount func(ServiceAccount)
	// Lines, when set, fills each Workload's Line and ImageLines, at the
	// cost of a second parse of each document that holds a workload (for
	// reports that point at lines: SARIF, JUnit).
	Lines bool
}

// ServiceAccount is a v1 ServiceAccount read from the manifests, reduced
// to its name and annotations.
type ServiceAccount struct {
	Namespace, Name string
	Annotations     map[string]string
	Source          string
	Document        int
}

// Read reads manifests from paths as Walk does and returns all it found.
func Read(paths []string, stdin io.Reader) Result {
	var res Result
	_ = Walk(paths, stdin, res.visitor())
	return res
}

// Walk reads manifests from paths, in order, and hands each workload, error
// and skipped kind to v as soon as its document is read, so that memory does
// not grow with the number of documents. A path is a file (whatever its
// name), a directory (walked recursively in lexical order, reading *.yaml,
// *.yml and *.json files and skipping hidden files and directories, i.e.
// names starting with "."), or "-" for stdin. A path that cannot be read is
// a DocError with Document 0; the other paths are read all the same.
//
// Only regular files are read, never opened when the directory entry says
// otherwise, and opened without blocking and checked again once open: a
// FIFO, socket or device found in a directory is a Note (ErrNotRegular),
// one named in paths an error. Inside a directory a symbolic link is
// followed only to a file inside that directory (else a Note,
// ErrLinkOutside; links to directories are not followed); a link named in
// paths is followed wherever it leads. Each input is read up to
// MaxInputSize.
func Walk(paths []string, stdin io.Reader, v Visitor) error {
	wk := &walker{v: v}
	for _, p := range paths {
		if wk.stop != nil {
			break
		}
		if p == "-" {
			if stdin == nil {
				wk.fail(&DocError{Source: p, Err: ErrNoStdin})
				continue
			}
			wk.decode(p, stdin)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			wk.fail(pathError(p, err))
			continue
		}
		if fi.IsDir() {
			wk.dir(p)
			continue
		}
		wk.file(p, nil, "", false)
	}
	return wk.stop
}

// walker hands what it reads to v; stop is the first error v returned.
type walker struct {
	v    Visitor
	stop error
}

func (wk *walker) fail(e *DocError) {
	if wk.v.Error != nil && wk.stop == nil {
		wk.stop = wk.v.Error(e)
	}
}

func (wk *walker) note(path string, err error) {
	if wk.v.Note != nil {
		wk.v.Note(&DocError{Source: path, Err: err})
	}
}

func (wk *walker) decode(source string, r io.Reader) {
	d := decoder{source: source, v: wk.v}
	d.read(&capReader{r: r, left: maxInputSize})
	wk.stop = d.stop
}

// dir walks root. Files are opened through an os.Root of the directory, so
// that no path (even one changed while the walk runs) leads out of it.
func (wk *walker) dir(root string) {
	walkRoot := root
	if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// The directory was named through a link: walk what it leads to
		// (WalkDir does not follow a link, not even the root).
		walkRoot = root + string(filepath.Separator)
	}
	realRoot, err := realPath(root)
	if err != nil {
		wk.fail(pathError(root, err))
		return
	}
	dirRoot, err := os.OpenRoot(root)
	if err != nil {
		wk.fail(pathError(root, err))
		return
	}
	defer dirRoot.Close()
	err = filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
		if wk.stop != nil {
			return filepath.SkipAll
		}
		if err != nil {
			wk.fail(pathError(path, err))
			return nil
		}
		name := d.Name()
		if path != walkRoot && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isManifestName(name) {
			return nil
		}
		rel, err := filepath.Rel(walkRoot, path)
		if err != nil {
			wk.fail(pathError(path, err))
			return nil
		}
		switch t := d.Type(); {
		case t.IsRegular():
			wk.file(path, dirRoot, rel, true)
		case t&fs.ModeSymlink != 0:
			wk.link(path, dirRoot, rel, realRoot)
		default:
			wk.note(path, ErrNotRegular)
		}
		return nil
	})
	if err != nil {
		wk.fail(pathError(root, err))
	}
}

// link reads the file a link inside a directory leads to, when it stays
// inside that directory (realRoot, free of links).
func (wk *walker) link(path string, dirRoot *os.Root, rel, realRoot string) {
	target, err := realPath(path)
	if err != nil {
		// A dangling link or a loop: name the cause as Stat does.
		if _, serr := os.Stat(path); serr != nil {
			err = serr
		}
		wk.fail(pathError(path, err))
		return
	}
	if !within(realRoot, target) {
		wk.note(path, ErrLinkOutside)
		return
	}
	fi, err := os.Stat(target)
	if err != nil {
		wk.fail(pathError(path, err))
		return
	}
	if fi.IsDir() {
		return // links to directories are not followed
	}
	if !fi.Mode().IsRegular() {
		wk.note(path, ErrNotRegular)
		return
	}
	wk.file(path, dirRoot, rel, true)
}

// realPath is path made absolute, free of symbolic links.
func realPath(path string) (string, error) {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// within reports whether path is dir or below it; both are clean and
// absolute.
func within(dir, path string) bool {
	if path == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(path, dir)
}

func isManifestName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// file reads path (rel through dirRoot, when found in a directory). It is
// opened without blocking, so that a FIFO put in place of the file after
// the directory was read cannot stall, and read only if the open file is
// regular: otherwise a Note in a directory, an error when named (inDir
// false).
func (wk *walker) file(path string, dirRoot *os.Root, rel string, inDir bool) {
	const flags = os.O_RDONLY | syscall.O_NONBLOCK
	var f *os.File
	var err error
	if dirRoot != nil {
		f, err = dirRoot.OpenFile(rel, flags, 0)
	} else {
		f, err = os.OpenFile(path, flags, 0)
	}
	if err != nil {
		var pe *fs.PathError
		if dirRoot != nil && errors.As(err, &pe) && pe.Path == rel {
			pe.Path = path
		}
		wk.fail(pathError(path, err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		wk.fail(pathError(path, err))
		return
	}
	switch {
	case fi.Mode().IsRegular():
	case !inDir && fi.Mode()&fs.ModeNamedPipe != 0:
		// A pipe named on the command line is read like stdin: the
		// user asked for it (check <(helm template ...)).
	case inDir:
		wk.note(path, ErrNotRegular)
		return
	default:
		wk.fail(&DocError{Source: path, Err: ErrNotRegular})
		return
	}
	wk.decode(path, f)
}

// capReader reads up to left bytes of r, then fails with ErrInputTooLarge
// if r holds more.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: over %d MiB", ErrInputTooLarge, maxInputSize>>20)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
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
	var res Result
	d := decoder{source: source, v: res.visitor()}
	d.read(r)
	return res
}

// read decodes r, handing what it finds to d.v.
func (d *decoder) read(r io.Reader) {
	s := newSplitter(r, MaxDocumentSize)
	defer s.release()
	for d.stop == nil {
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
}

type decoder struct {
	source    string
	doc       int
	startLine int // line of the file where the current document starts
	v         Visitor
	stop      error     // the first error v returned
	pos       positions // where the current document's objects are (v.Lines)
}

func (d *decoder) fail(item int, object, field string, err error) {
	if d.v.Error == nil || d.stop != nil {
		return
	}
	d.stop = d.v.Error(&DocError{
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
	if d.v.Lines {
		d.pos.reset(data, d.startLine)
	}
	d.object(j, 0, "", "")
}

// jsonStream decodes data as concatenated JSON objects, one document each.
// It returns false, having decoded nothing, when the first object is not
// valid JSON: the caller then reads data as YAML (a flow mapping such as
// "{kind: Pod}" starts with "{" too).
func (d *decoder) jsonStream(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	for n := 0; d.stop == nil; n++ {
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
			err = jsonStreamError(err)
			d.fail(0, "", "", fmt.Errorf("%w (the rest of this JSON stream was not read)", err))
			return true
		}
		if d.v.Lines {
			off := int(dec.InputOffset()) - len(raw)
			d.pos.reset(raw, d.startLine+lineOf(data, off))
		}
		d.object(raw, 0, "", "")
	}
	return true
}

// jsonStreamError says where a JSON stream broke: a syntax error with its
// offset, an error of encoding/json's own (its text already starts with
// "json: "), anything else (io.ErrUnexpectedEOF) prefixed with "json: ".
func jsonStreamError(err error) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
		ie *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("json: offset %d: %w", se.Offset, err)
	case errors.As(err, &te), errors.As(err, &ie):
		return err
	}
	return fmt.Errorf("json: %w", err)
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
	if h.Kind == "ServiceAccount" && h.APIVersion == "v1" && d.v.ServiceAccount != nil {
		var sa struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &sa); err != nil {
			field, err := decodeError(err)
			d.fail(item, object, field, err)
			return
		}
		d.v.ServiceAccount(ServiceAccount{Namespace: h.Metadata.Namespace, Name: h.Metadata.Name,
			Annotations: sa.Metadata.Annotations, Source: d.source, Document: d.doc})
		return
	}
	isWorkload, supported := classify(h.APIVersion, h.Kind)
	if d.v.Workload == nil && d.v.Error == nil {
		// Nobody wants workloads (a pass for service accounts only):
		// do not decode them.
		if !isWorkload && d.v.Skipped != nil {
			d.v.Skipped(h.Kind)
		}
		return
	}
	if !isWorkload {
		w, ok := podTemplateCRD(h.APIVersion, h.Kind, data)
		if !ok {
			if d.v.Skipped != nil {
				d.v.Skipped(h.Kind)
			}
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
	if d.v.Lines {
		d.pos.locate(&w, item)
	}
	if d.v.Workload != nil && d.stop == nil {
		d.stop = d.v.Workload(w)
	}
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
		if d.stop != nil {
			return
		}
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
