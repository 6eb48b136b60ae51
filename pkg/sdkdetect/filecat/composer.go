package filecat

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// composerInstalled reads the list of installed packages Composer keeps
// in the vendor directory, vendor/composer/installed.json (any vendor
// directory name: composer/installed.json), and reports the version each
// wanted package is installed at. Composer 2 writes
// {"packages": [...], "dev": ..., "dev-package-names": [...]}, Composer 1 the
// array alone; each package has "name" (VENDOR/NAME) and "version" as
// written ("3.287.1", "v1.28.0", "dev-master"). composer.lock is not read:
// it is what an install would choose, and vendor/ may hold something else.
// The file (some MiB in large applications) is decoded one package at a
// time; what it buffers is bounded by Limits.MaxFileBytes.
type composerInstalled struct{}

func (composerInstalled) Name() string { return NameComposer }

func (composerInstalled) Wants(f File) bool {
	dir, base := cutLast(f.Path)
	if base != "installed.json" {
		return false
	}
	_, d := cutLast(dir)
	return d == "composer" && !isExecutableHead(f.Head)
}

func (c composerInstalled) Read(f File, r io.Reader, lim Limits) (Result, error) {
	src := &source{r: r}
	res := newResults(c.Name())
	cr := &capReader{r: src, left: lim.maxFile()}
	err := readComposerPackages(cr, func(name, version string) {
		vendor, pkg, ok := strings.Cut(name, "/")
		if !ok || !isWanted("composer", vendor, pkg) {
			return
		}
		switch {
		case version == "":
			res.note(f.Path, fmt.Sprintf("Composer package %s installed without a version", name))
		case strings.HasPrefix(version, "dev-") || strings.HasSuffix(version, "-dev"):
			res.note(f.Path, fmt.Sprintf("Composer package %s installed from the branch %s: its release cannot be read", name, version))
		default:
			res.found(f.Path, "composer", vendor, pkg, strings.TrimPrefix(version, "v"))
		}
	})
	switch {
	case src.err != nil || err == nil:
	case cr.hit:
		res.note(f.Path, fmt.Sprintf("installed.json larger than %d bytes: read in part", cr.max()))
	default:
		res.note(f.Path, fmt.Sprintf("installed.json is not valid JSON: %v", err))
	}
	return src.finish(f, res)
}

// readComposerPackages calls fn for each package of an installed.json,
// Composer 2's or Composer 1's.
func readComposerPackages(r io.Reader, fn func(name, version string)) error {
	dec := json.NewDecoder(skipBOM(r))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		// Composer 1.
		return readComposerList(dec, fn)
	case json.Delim('{'):
	default:
		return errNotObject
	}
	if ok, err := enterMember(dec, "packages", '['); !ok || err != nil {
		return err
	}
	return readComposerList(dec, fn)
}

// readComposerList reads the packages of an array whose '[' was read,
// decoding each package's name and version only.
func readComposerList(dec *json.Decoder, fn func(name, version string)) error {
	for dec.More() {
		var p struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		}
		if err := dec.Decode(&p); err != nil {
			if _, ok := err.(*json.UnmarshalTypeError); ok {
				// Not an object, or a name or version not a string.
				continue
			}
			return err
		}
		if p.Name != "" {
			fn(p.Name, p.Version)
		}
	}
	_, err := dec.Token()
	return err
}
