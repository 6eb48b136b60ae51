package filecat

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// dotnetDeps reads the *.deps.json a .NET application is published with:
// the keys of its "libraries" object are NAME/VERSION, and those of type
// "package" are the NuGet packages the application runs with. The file is
// decoded token by token; what it buffers is bounded by
// Limits.MaxFileBytes.
type dotnetDeps struct{}

func (dotnetDeps) Name() string { return NameDotnetDeps }

func (dotnetDeps) Wants(f File) bool {
	_, base := cutLast(f.Path)
	return len(base) > len(".deps.json") && strings.HasSuffix(base, ".deps.json") && !isExecutableHead(f.Head)
}

func (c dotnetDeps) Read(f File, r io.Reader, lim Limits) (Result, error) {
	src := &source{r: r}
	res := newResults(c.Name())
	cr := &capReader{r: src, left: lim.maxFile()}
	err := readDepsLibraries(cr, func(name, version string) {
		if isWanted("nuget", "", name) {
			res.found(f.Path, "nuget", "", name, version)
		}
	})
	switch {
	case src.err != nil || err == nil:
	case cr.hit:
		res.note(f.Path, fmt.Sprintf("deps.json larger than %d bytes: read in part", cr.max()))
	default:
		res.note(f.Path, fmt.Sprintf("deps.json is not valid JSON: %v", err))
	}
	return src.finish(f, res)
}

// readDepsLibraries calls fn for each library of type "package" in the
// "libraries" object of a deps.json, and stops reading after it.
func readDepsLibraries(r io.Reader, fn func(name, version string)) error {
	dec := json.NewDecoder(skipBOM(r))
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	if ok, err := enterMember(dec, "libraries", '{'); !ok || err != nil {
		return err
	}
	for dec.More() {
		lib, err := objectKey(dec)
		if err != nil {
			return err
		}
		typ, err := libraryType(dec)
		if err != nil {
			return err
		}
		name, version, ok := strings.Cut(lib, "/")
		if typ == "package" && ok && name != "" && version != "" {
			fn(name, version)
		}
	}
	return nil
}

// enterMember reads the members of the object whose '{' dec has read up to
// the one named key, then the opening delimiter of its value: ok when it
// is open, the value to be read next. Without such a member, or when its
// value is of another kind (which is skipped), ok is false.
func enterMember(dec *json.Decoder, key string, open json.Delim) (ok bool, err error) {
	for dec.More() {
		k, err := objectKey(dec)
		if err != nil {
			return false, err
		}
		if k != key {
			if err := skipValue(dec); err != nil {
				return false, err
			}
			continue
		}
		tok, err := dec.Token()
		if err != nil {
			return false, err
		}
		if tok != open {
			if _, ok := tok.(json.Delim); ok {
				return false, skipRest(dec)
			}
			return false, nil
		}
		return true, nil
	}
	return false, nil
}

// libraryType reads a library's object and returns its "type".
func libraryType(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	if tok != json.Delim('{') {
		if _, ok := tok.(json.Delim); ok {
			return "", skipRest(dec)
		}
		return "", nil
	}
	typ := ""
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return "", err
		}
		if key != "type" {
			if err := skipValue(dec); err != nil {
				return "", err
			}
			continue
		}
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case string:
			typ = t
		case json.Delim:
			if err := skipRest(dec); err != nil {
				return "", err
			}
		}
	}
	// The closing '}'.
	if _, err := dec.Token(); err != nil {
		return "", err
	}
	return typ, nil
}
