package filecat

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// haskellConf reads the package databases of GHC and its build tools: one
// NAME-VERSION[-ID].conf per installed library in package.conf.d (GHC,
// Debian's /var/lib/ghc), package.db (cabal's store) or pkgdb (stack),
// with "name:" and "version:" fields. The file name chooses the files and
// gives the version when the fields do not.
type haskellConf struct{}

// maxHaskellConf bounds the part of a .conf read (name and version are its
// first fields).
const maxHaskellConf = 64 << 10

func (haskellConf) Name() string { return NameHaskellConf }

func (haskellConf) Wants(f File) bool {
	dir, base := cutLast(f.Path)
	switch _, d := cutLast(dir); d {
	case "package.conf.d", "package.db", "pkgdb":
	default:
		return false
	}
	stem, ok := strings.CutSuffix(base, ".conf")
	if !ok {
		return false
	}
	_, _, ok = wantedHaskellFile(stem)
	return ok && !isExecutableHead(f.Head)
}

// wantedHaskellFile splits NAME-VERSION[-ID] for a wanted package NAME.
func wantedHaskellFile(stem string) (name, version string, ok bool) {
	for i := range wantedPackages {
		w := &wantedPackages[i]
		n := len(w.name)
		if w.typ == "hackage" && len(stem) > n+1 && stem[:n] == w.name && stem[n] == '-' && isDigit(stem[n+1]) {
			version, _, _ = strings.Cut(stem[n+1:], "-")
			return w.name, version, true
		}
	}
	return "", "", false
}

func (c haskellConf) Read(f File, r io.Reader, lim Limits) (Result, error) {
	src := &source{r: r}
	res := newResults(c.Name())
	_, base := cutLast(f.Path)
	name, version, _ := wantedHaskellFile(strings.TrimSuffix(base, ".conf"))
	confName, confVersion := readHaskellConf(src, lim.capped(maxHaskellConf))
	if confName != "" && confName != name {
		name, version = confName, ""
	}
	if confVersion != "" {
		version = confVersion
	}
	switch {
	case name == "" || !isWanted("hackage", "", name):
	case version == "":
		res.note(f.Path, fmt.Sprintf("package configuration of %s without a version", name))
	default:
		res.found(f.Path, "hackage", "", name, version)
	}
	return src.finish(f, res)
}

// readHaskellConf reads the name and version fields of an installed
// package description; a field's value may be on the lines after it,
// indented.
func readHaskellConf(r io.Reader, max int64) (name, version string) {
	lr := newLineReader(r, max)
	var pending *string // the field whose value is on the next line
	for name == "" || version == "" {
		line, ok := lr.next()
		if !ok {
			break
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if pending != nil && *pending == "" {
				*pending = string(bytes.TrimSpace(line))
			}
			continue
		}
		pending = nil
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var field *string
		switch {
		case bytes.EqualFold(bytes.TrimSpace(key), []byte("name")):
			field = &name
		case bytes.EqualFold(bytes.TrimSpace(key), []byte("version")):
			field = &version
		default:
			continue
		}
		if *field != "" {
			continue
		}
		*field = string(bytes.TrimSpace(value))
		if *field == "" {
			pending = field
		}
	}
	return name, version
}
