package filecat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Go executables carry their module information (the main module and
// every dependency, with versions and replacements) as text framed by two
// sentinels (cmd/go/internal/modload: infoStart and infoEnd). Since Go 1.18
// the text follows the build-info header ("\xff Go buildinf:", 32 bytes,
// then the Go version and the module text, each prefixed by its length as
// a varint); before, the header held pointers to it, and the text was
// somewhere in the read-only data. GOPATH builds have a header but no
// module text.
//
// goBuildinfo reads neither format through the executable's sections (that
// needs random access): it streams the file through a window, finds the
// header and the sentinels, and parses the framed text with
// runtime/debug.ParseBuildInfo. The header, when it has the inline format,
// says exactly where the text is; framed text found elsewhere (the only
// place in binaries before Go 1.18) counts only when it starts with a
// "path" line, since any binary may hold the sentinel bytes as data.
const (
	goBuildInfoMagic = "\xff Go buildinf:"
	goInfoStart      = "0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6"
	goInfoEnd        = "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	goHeaderSize     = 32

	// goChunk is how much of the file one read takes.
	goChunk = 64 << 10
	// goMaxModInfo bounds the module text (a binary with a thousand
	// dependencies has about 150 KiB).
	goMaxModInfo = 4 << 20
	// upxMagic within the first upxWithin bytes marks an executable packed
	// with UPX (its l_info header).
	upxMagic  = "UPX!"
	upxWithin = 4096
	// minGoExecutable is the size below which a file cannot be a Go
	// executable (the runtime alone is larger).
	minGoExecutable = 128 << 10
)

// noModInfo is the note on a Go executable without module information.
const noModInfo = "Go executable without module information (a GOPATH build): its client-go version cannot be read"

var (
	goMagicBytes = []byte(goBuildInfoMagic)
	goStartBytes = []byte(goInfoStart)
	goEndBytes   = []byte(goInfoEnd)
)

type goBuildinfo struct{}

func (goBuildinfo) Name() string { return NameGoBuildinfo }

// Wants takes ELF, PE and Mach-O files large enough to be Go executables
// (Rust executables, with the standard library, are larger too). (The
// other catalogers read text and never take such a file, so no file goes
// to two catalogers.)
func (goBuildinfo) Wants(f File) bool {
	return f.Size >= minGoExecutable && isExecutableHead(f.Head)
}

// isExecutableHead reports whether a file starts like an ELF, PE or
// Mach-O file (thin, or universal with a plausible architecture count,
// which tells it from a Java class file: both start with 0xcafebabe).
func isExecutableHead(h []byte) bool {
	switch {
	case len(h) >= 4 && string(h[:4]) == "\x7fELF":
		return true
	case len(h) >= 2 && string(h[:2]) == "MZ":
		return true
	case len(h) >= 4:
		switch string(h[:4]) {
		case "\xfe\xed\xfa\xce", "\xfe\xed\xfa\xcf", "\xce\xfa\xed\xfe", "\xcf\xfa\xed\xfe":
			return true
		case "\xca\xfe\xba\xbe":
			return len(h) >= 8 && binary.BigEndian.Uint32(h[4:8]) < 32
		}
	}
	return false
}

// Read reads the Go module information of f and, in an ELF file that has
// none, the dependency list cargo auditable embeds in Rust executables
// (cargoauditable.go), in the same pass: the crates it finds have the
// Source "layer:cargo-auditable".
func (c goBuildinfo) Read(f File, r io.Reader, lim Limits) (Result, error) {
	src := &source{r: r}
	res := newResults(c.Name())
	var in io.Reader = src
	var dep *depScanner
	if isELFHead(f.Head) {
		dep = newDepScanner(src, lim)
		defer dep.close()
		in = dep
	}
	sc := newGoScanner(in, int(lim.capped(goMaxModInfo)))
	sc.scan()
	switch {
	case sc.info != nil:
		reportGoModules(res, f.Path, sc.info)
	case sc.cut:
		res.note(f.Path, "Go module information cut short: the file ends inside it")
	case sc.tooLarge:
		res.note(f.Path, fmt.Sprintf("Go module information larger than %d bytes: not read", sc.max))
	case sc.goExe:
		res.note(f.Path, noModInfo)
	case sc.packed:
		res.note(f.Path, "executable packed with UPX: its Go module information or Rust dependency list, if any, cannot be read")
	}
	if dep != nil && sc.info == nil && !sc.goExe {
		// Not a Go executable: the scanner read the file to its end.
		rust := newResults(NameCargoAuditable)
		dep.report(rust, f.Path)
		res.res.Found = append(res.res.Found, rust.res.Found...)
		for _, n := range rust.res.Notes {
			res.note(n.File, n.Reason)
		}
	}
	return src.finish(f, res)
}

// reportGoModules adds the wanted modules linked into a binary. A module
// replaced by another version of itself is linked at the replacement's
// version; one replaced by a local directory or by a fork has no version
// that says what it holds.
func reportGoModules(res *results, file string, bi *debug.BuildInfo) {
	if bi.Main.Path == "" && len(bi.Deps) == 0 {
		// No main module: a GOPATH build, or a command of the Go
		// distribution ("cmd/go"), which has no dependencies.
		if !strings.HasPrefix(bi.Path, "cmd/") {
			res.note(file, noModInfo)
		}
		return
	}
	if isWantedGoModule(bi.Main.Path) {
		if v := bi.Main.Version; v == "" || v == "(devel)" {
			res.note(file, fmt.Sprintf("Go executable built inside the module %s itself: its version is not recorded", bi.Main.Path))
		} else {
			ns, name := splitGoModule(bi.Main.Path)
			res.found(file, "golang", ns, name, v)
		}
	}
	for _, d := range bi.Deps {
		linked := d
		if d.Replace != nil {
			linked = d.Replace
		}
		// A directory replacement has no version, or "(devel)".
		local := linked.Version == "" || linked.Version == "(devel)"
		switch {
		case isWantedGoModule(linked.Path) && !local:
			ns, name := splitGoModule(linked.Path)
			res.found(file, "golang", ns, name, linked.Version)
		case !isWantedGoModule(d.Path):
		case local:
			res.note(file, fmt.Sprintf("%s %s is replaced by the directory %s: the version linked cannot be read", d.Path, d.Version, linked.Path))
		default:
			res.note(file, fmt.Sprintf("%s %s is replaced by %s %s: a fork's version does not say which %s it holds", d.Path, d.Version, linked.Path, linked.Version, d.Path))
		}
	}
}

// goScanner streams a file through a window looking for the build-info
// header and the framed module text. The window holds goChunk bytes plus,
// while a match is being read, up to max bytes from the match on.
type goScanner struct {
	r   io.Reader
	max int

	buf   []byte
	eof   bool
	magic finder
	start finder

	// info is the module information, from the header (authoritative) or,
	// failing that, the first valid framed text.
	info *debug.BuildInfo
	// goExe says a build-info header was seen.
	goExe bool
	// tooLarge says framed text longer than max was skipped.
	tooLarge bool
	// cut says the file ends inside the module text.
	cut bool
	// packed says the file starts like a UPX-packed executable, whose
	// build information is compressed.
	packed bool
	read   int64
}

func newGoScanner(r io.Reader, max int) *goScanner {
	return &goScanner{
		r:     r,
		max:   max,
		magic: finder{pat: goMagicBytes, at: -1},
		start: finder{pat: goStartBytes, at: -1},
	}
}

// fill drops the first keep bytes of the window and reads more. It
// returns false when nothing more can be read.
func (s *goScanner) fill(keep int) bool {
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.buf = s.buf[:n]
		s.magic.shift(keep)
		s.start.shift(keep)
	}
	if s.eof {
		return false
	}
	if cap(s.buf)-len(s.buf) < goChunk {
		nb := make([]byte, len(s.buf), 2*len(s.buf)+goChunk)
		copy(nb, s.buf)
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	if s.read < upxWithin {
		// The UPX header is in the first bytes: look at them whole.
		from := max(len(s.buf)-len(upxMagic)+1, 0)
		end := len(s.buf) + n
		if s.read+int64(n) > upxWithin {
			end = len(s.buf) + int(upxWithin-s.read)
		}
		if from < end && bytes.Contains(s.buf[from:end], []byte(upxMagic)) {
			s.packed = true
		}
	}
	s.read += int64(n)
	s.buf = s.buf[:len(s.buf)+n]
	if err != nil {
		s.eof = true
	}
	return n > 0
}

// scan reads the file until it finds the header's module text, or to its
// end.
func (s *goScanner) scan() {
	pos := 0 // the window before pos is searched
	for {
		mi := s.magic.find(s.buf, pos)
		si := s.start.find(s.buf, pos)
		if mi < 0 && si < 0 {
			// A match may begin in the last bytes: keep them.
			keep := max(pos, len(s.buf)-(len(goInfoStart)-1), 0)
			pos -= min(pos, keep)
			if !s.fill(keep) {
				return
			}
			continue
		}
		i, isHeader := si, false
		if mi >= 0 && (si < 0 || mi < si) {
			i, isHeader = mi, true
		}
		var next int
		var done, more bool
		if isHeader {
			next, done, more = s.header(i)
		} else {
			next, more = s.framed(i)
		}
		switch {
		case done:
			return
		case more && s.eof:
			// The file ends inside the match: it is none.
			pos = i + 1
		case more:
			// Keep the match whole in the window, and read on.
			s.fill(i)
			pos = 0
		default:
			pos = next
		}
	}
}

// header reads the build-info header at s.buf[i:]. It returns where to
// search next, done when the module information is read, or more when the
// window holds too little of it.
func (s *goScanner) header(i int) (next int, done, more bool) {
	b := s.buf[i:]
	if len(b) < goHeaderSize {
		return 0, false, true
	}
	ptrSize, flags := b[14], b[15]
	if (ptrSize != 4 && ptrSize != 8) || flags&^3 != 0 {
		return i + 1, false, false
	}
	if flags&2 == 0 {
		// Before Go 1.18: the header points at the module text, which the
		// search for the sentinels finds.
		s.goExe = true
		return i + len(goBuildInfoMagic), false, false
	}
	for _, c := range b[16:goHeaderSize] {
		if c != 0 {
			return i + 1, false, false
		}
	}
	p := goHeaderSize
	vers, n := binary.Uvarint(b[p:])
	if n == 0 && len(b)-p < binary.MaxVarintLen64 {
		return 0, false, true
	}
	if n <= 0 || vers == 0 || vers > 256 {
		return i + 1, false, false
	}
	p += n + int(vers)
	if len(b) < p+binary.MaxVarintLen64 && !s.eof {
		return 0, false, true
	}
	if len(b) < p {
		return i + 1, false, false
	}
	mod, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return i + 1, false, false
	}
	p += n
	s.goExe = true
	if mod > uint64(s.max) {
		s.tooLarge = true
		return i + len(goBuildInfoMagic), true, false
	}
	if len(b) < p+int(mod) {
		if s.eof {
			s.cut = true
			return i + 1, false, false
		}
		return 0, false, true
	}
	text := b[p : p+int(mod)]
	// Strip the sentinels as debug/buildinfo does; without them the binary
	// has no module information.
	if len(text) >= 33 && text[len(text)-17] == '\n' {
		text = text[16 : len(text)-16]
	} else {
		text = nil
	}
	s.info = nil
	if bi, ok := parseModInfo(text); ok {
		s.info = bi
	}
	return p + int(mod), true, false
}

// framed reads framed module text starting at s.buf[i:]. It returns where
// to search next, or more when the window holds too little of it.
func (s *goScanner) framed(i int) (next int, more bool) {
	body := s.buf[i+len(goInfoStart):]
	j := bytes.Index(body, goEndBytes)
	if j < 0 {
		if len(body) > s.max+len(goInfoEnd) {
			s.tooLarge = true
			return i + 1, false
		}
		return 0, true
	}
	if s.info == nil {
		if bi, ok := parseModInfo(body[:j]); ok {
			s.info = bi
			return i + len(goInfoStart) + j + len(goInfoEnd), false
		}
	}
	return i + 1, false
}

// parseModInfo parses module text, which starts with a "path" line and
// ends with a newline.
func parseModInfo(text []byte) (*debug.BuildInfo, bool) {
	if !bytes.HasPrefix(text, []byte("path\t")) || !bytes.HasSuffix(text, []byte("\n")) {
		return nil, false
	}
	bi, err := debug.ParseBuildInfo(string(text))
	if err != nil {
		return nil, false
	}
	return bi, true
}

// finder finds a pattern in a window that grows at its end and drops
// bytes at its start, searching no byte twice.
type finder struct {
	pat []byte
	// at is the index of the last match found, or -1. When at < 0,
	// [from, to) was searched without one.
	at, from, to int
}

// find returns the index of the first match at or after pos, or -1.
func (f *finder) find(buf []byte, pos int) int {
	if f.at >= 0 && f.at >= pos {
		return f.at
	}
	from := pos
	if f.at < 0 && pos >= f.from && pos < f.to {
		from = max(pos, f.to-len(f.pat)+1)
	}
	if from > len(buf) {
		from = len(buf)
	}
	if k := bytes.Index(buf[from:], f.pat); k >= 0 {
		f.at = from + k
		return f.at
	}
	f.at, f.from, f.to = -1, pos, len(buf)
	return -1
}

// shift accounts for the first d bytes of the window being dropped.
func (f *finder) shift(d int) {
	if f.at >= 0 {
		f.at -= d
		if f.at < 0 {
			f.at, f.from, f.to = -1, 0, 0
		}
		return
	}
	f.from, f.to = max(f.from-d, 0), max(f.to-d, 0)
}
