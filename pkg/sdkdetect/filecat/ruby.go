package filecat

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// rubyGemspec reads the specifications RubyGems writes for installed gems:
// specifications/NAME-VERSION[-PLATFORM].gemspec (GEM_HOME, bundler's
// vendor/bundle, Debian's rubygems-integration). The file name gives the
// gem; the file's "# stub:" line or its s.name and s.version, when
// present, confirm or correct it.
type rubyGemspec struct{}

// maxGemspec bounds the part of a gemspec read (the stub line and s.name
// and s.version are at its top).
const maxGemspec = 64 << 10

func (rubyGemspec) Name() string { return NameRubyGemspec }

func (rubyGemspec) Wants(f File) bool {
	dir, base := cutLast(f.Path)
	if _, d := cutLast(dir); d != "specifications" {
		return false
	}
	stem, ok := strings.CutSuffix(base, ".gemspec")
	if !ok {
		return false
	}
	_, _, ok = wantedGemFile(stem)
	return ok && !isExecutableHead(f.Head)
}

// wantedGemFile splits NAME-VERSION[-PLATFORM] for a wanted gem NAME.
func wantedGemFile(stem string) (name, version string, ok bool) {
	for i := range wantedPackages {
		w := &wantedPackages[i]
		n := len(w.name)
		if w.typ == "gem" && len(stem) > n+1 && stem[:n] == w.name && stem[n] == '-' && isDigit(stem[n+1]) {
			version, _, _ = strings.Cut(stem[n+1:], "-")
			return w.name, version, true
		}
	}
	return "", "", false
}

func (c rubyGemspec) Read(f File, r io.Reader, lim Limits) (Result, error) {
	src := &source{r: r}
	res := newResults(c.Name())
	_, base := cutLast(f.Path)
	name, version, _ := wantedGemFile(strings.TrimSuffix(base, ".gemspec"))
	specName, specVersion := readGemspec(src, lim.capped(maxGemspec))
	if specName != "" && specName != name {
		name, version = specName, ""
	}
	if specVersion != "" {
		version = specVersion
	}
	switch {
	case name == "" || !isWanted("gem", "", name):
	case version == "":
		res.note(f.Path, fmt.Sprintf("gemspec of %s without a version", name))
	default:
		res.found(f.Path, "gem", "", name, version)
	}
	return src.finish(f, res)
}

// readGemspec reads the name and version a gemspec states: its
// "# stub: NAME VERSION PLATFORM PATHS" line, else s.name = "..." and
// s.version = "..." (or Gem::Version.new("...")).
func readGemspec(r io.Reader, max int64) (name, version string) {
	lr := newLineReader(r, max)
	for {
		line, ok := lr.next()
		if !ok {
			return name, version
		}
		line = bytes.TrimSpace(line)
		if rest, ok := bytes.CutPrefix(line, []byte("# stub: ")); ok {
			if fields := bytes.Fields(rest); len(fields) >= 2 {
				return string(fields[0]), string(fields[1])
			}
			continue
		}
		key, value, ok := bytes.Cut(line, []byte("="))
		if !ok {
			continue
		}
		switch string(bytes.TrimSpace(key)) {
		case "s.name", "spec.name":
			if name == "" {
				name = firstQuoted(value)
			}
		case "s.version", "spec.version":
			if version == "" {
				version = firstQuoted(value)
			}
		}
		if name != "" && version != "" {
			return name, version
		}
	}
}

// firstQuoted returns the first "...", '...' or %q{...} string in b,
// without interpreting escapes (gem names and versions have none).
func firstQuoted(b []byte) string {
	i := bytes.IndexAny(b, `"'{`)
	if i < 0 {
		return ""
	}
	q := b[i]
	if q == '{' {
		if !bytes.HasSuffix(b[:i], []byte("%q")) {
			return ""
		}
		q = '}'
	}
	rest := b[i+1:]
	j := bytes.IndexByte(rest, q)
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
