package filecat

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// pythonMetadata reads the core metadata of installed Python
// distributions: NAME-VERSION.dist-info/METADATA (wheels),
// NAME-VERSION[-pyX.Y].egg-info/PKG-INFO (setuptools; Debian's
// dist-packages), NAME-VERSION.egg-info as a single file holding PKG-INFO
// (distutils), and NAME-VERSION-pyX.Y.egg/EGG-INFO/PKG-INFO (unzipped
// eggs). It takes the "Name:" and "Version:" headers; the
// directory name only chooses which files to read.
type pythonMetadata struct{}

// maxPyHeaders bounds the header block read (Name and Version are its
// second and third lines).
const maxPyHeaders = 256 << 10

func (pythonMetadata) Name() string { return NamePythonMetadata }

// Wants takes the metadata files of wanted distributions, by the
// distribution name in the directory (or single file) name.
func (pythonMetadata) Wants(f File) bool {
	if isExecutableHead(f.Head) {
		return false
	}
	stem, ok := pyMetadataStem(f.Path)
	return ok && wantedPyPIStem(stem)
}

// pyMetadataStem returns the NAME-VERSION part of a metadata file's
// directory (or single file) name.
func pyMetadataStem(path string) (string, bool) {
	dir, base := cutLast(path)
	switch base {
	case "METADATA":
		_, d := cutLast(dir)
		return strings.CutSuffix(d, ".dist-info")
	case "PKG-INFO":
		dir, d := cutLast(dir)
		if d == "EGG-INFO" {
			// An unzipped egg: NAME-VERSION-pyX.Y.egg/EGG-INFO/PKG-INFO.
			_, d = cutLast(dir)
			return strings.CutSuffix(d, ".egg")
		}
		return strings.CutSuffix(d, ".egg-info")
	}
	return strings.CutSuffix(base, ".egg-info")
}

// wantedPyPIStem reports whether NAME-VERSION (or NAME alone) names a
// wanted distribution: NAME equals a wanted name as PEP 503 compares, and
// is followed by the end or by '-' and a digit.
func wantedPyPIStem(stem string) bool {
	for i := range wantedPackages {
		w := &wantedPackages[i]
		if w.typ != "pypi" {
			continue
		}
		n, ok := pep503Prefix(stem, w.name)
		if ok && (n == len(stem) || stem[n] == '-' && n+1 < len(stem) && isDigit(stem[n+1])) {
			return true
		}
	}
	return false
}

func (c pythonMetadata) Read(f File, r io.Reader, lim Limits) (Result, error) {
	src := &source{r: r}
	res := newResults(c.Name())
	name, version := readPyHeaders(src, lim.capped(maxPyHeaders))
	switch {
	case name == "":
		if stem, ok := pyMetadataStem(f.Path); ok && wantedPyPIStem(stem) {
			res.note(f.Path, "Python metadata without a Name header")
		}
	case !isWanted("pypi", "", name):
	case version == "":
		res.note(f.Path, fmt.Sprintf("Python metadata of %s without a Version header", pep503(name)))
	default:
		res.found(f.Path, "pypi", "", pep503(name), version)
	}
	return src.finish(f, res)
}

// readPyHeaders reads the Name and Version headers of core metadata
// (RFC 822 style), stopping at the first blank line, at max bytes, or
// once both are read.
func readPyHeaders(r io.Reader, max int64) (name, version string) {
	lr := newLineReader(r, max)
	for name == "" || version == "" {
		line, ok := lr.next()
		if !ok || len(bytes.TrimSpace(line)) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // a continuation line
		}
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		key = bytes.TrimSpace(key)
		switch {
		case name == "" && bytes.EqualFold(key, []byte("Name")):
			name = string(bytes.TrimSpace(value))
		case version == "" && bytes.EqualFold(key, []byte("Version")):
			version = string(bytes.TrimSpace(value))
		}
	}
	return name, version
}
