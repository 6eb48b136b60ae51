package filecat

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// npmPackage reads the package.json of installed npm packages:
// node_modules/NAME/package.json and node_modules/@SCOPE/NAME/package.json,
// at any depth (nested node_modules, pnpm's
// node_modules/.pnpm/NAME@VERSION/node_modules/NAME). Any other
// package.json (an application's own) lists version ranges, not what is
// installed, and is not read. The "name" in the file must be the one the
// path gives.
type npmPackage struct{}

// maxPackageJSON bounds the package.json read ("name" and "version" come
// first in all but very old npm's rewritten files).
const maxPackageJSON = 4 << 20

func (npmPackage) Name() string { return NameNPMPackage }

func (npmPackage) Wants(f File) bool {
	scope, name, ok := npmPathName(f.Path)
	return ok && isWantedNPM(scope, name) && !isExecutableHead(f.Head)
}

// npmPathName returns the package a package.json's path names: scope
// (with its '@', or empty) and name.
func npmPathName(path string) (scope, name string, ok bool) {
	dir, base := cutLast(path)
	if base != "package.json" {
		return "", "", false
	}
	dir, name = cutLast(dir)
	if name == "" || name[0] == '.' || name[0] == '@' {
		return "", "", false
	}
	dir, s := cutLast(dir)
	if s == "node_modules" {
		return "", name, true
	}
	if len(s) > 1 && s[0] == '@' {
		if _, nm := cutLast(dir); nm == "node_modules" {
			return s, name, true
		}
	}
	return "", "", false
}

func (c npmPackage) Read(f File, r io.Reader, lim Limits) (Result, error) {
	src := &source{r: r}
	res := newResults(c.Name())
	scope, name, ok := npmPathName(f.Path)
	if !ok || !isWantedNPM(scope, name) {
		return src.finish(f, res)
	}
	full := name
	if scope != "" {
		full = scope + "/" + name
	}
	cr := &capReader{r: src, left: lim.capped(maxPackageJSON)}
	fields, err := readJSONStrings(cr, "name", "version")
	switch {
	case src.err != nil:
	case err != nil && cr.hit:
		res.note(f.Path, fmt.Sprintf("package.json of %s larger than %d bytes: not read", full, cr.max()))
	case err != nil:
		res.note(f.Path, fmt.Sprintf("package.json of %s is not valid JSON: %v", full, err))
	case fields[0] != full:
		// Another package's file in this directory: not evidence of full.
	case fields[1] == "":
		res.note(f.Path, fmt.Sprintf("package.json of %s without a version", full))
	default:
		res.found(f.Path, "npm", scope, name, fields[1])
	}
	return src.finish(f, res)
}

// readJSONStrings reads the string members named keys of the JSON object
// r holds, returning them in the order of keys ("" for a member missing
// or not a string). It stops reading once it has them all.
func readJSONStrings(r io.Reader, keys ...string) ([]string, error) {
	vals := make([]string, len(keys))
	found := 0
	dec := json.NewDecoder(skipBOM(r))
	if err := expectDelim(dec, '{'); err != nil {
		return vals, err
	}
	for dec.More() && found < len(keys) {
		key, err := objectKey(dec)
		if err != nil {
			return vals, err
		}
		i := -1
		for j, k := range keys {
			if k == key && vals[j] == "" {
				i = j
			}
		}
		if i < 0 {
			if err := skipValue(dec); err != nil {
				return vals, err
			}
			continue
		}
		tok, err := dec.Token()
		if err != nil {
			return vals, err
		}
		switch t := tok.(type) {
		case string:
			vals[i] = t
			if t != "" {
				found++
			}
		case json.Delim:
			if err := skipRest(dec); err != nil {
				return vals, err
			}
		}
	}
	return vals, nil
}

var errNotObject = errors.New("not a JSON object")

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return errNotObject
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", errNotObject
	}
	return key, nil
}

// skipValue reads the next value whole.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if _, ok := tok.(json.Delim); ok {
		return skipRest(dec)
	}
	return nil
}

// skipRest reads the rest of the object or array whose opening delimiter
// was just read.
func skipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// skipBOM drops a UTF-8 byte order mark at the start of r.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 4096)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	return br
}

// capReader reads at most left bytes of r, and says whether r had more.
type capReader struct {
	r    io.Reader
	left int64
	read int64
	hit  bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// Tell a file of exactly the cap from a longer one.
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.hit = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.read += int64(n)
	return n, err
}

func (c *capReader) max() int64 { return c.read + c.left }
