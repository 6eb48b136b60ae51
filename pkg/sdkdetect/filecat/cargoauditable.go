package filecat

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"sync"
)

// cargo auditable (github.com/rust-secure-code/cargo-auditable) embeds a
// Rust executable's dependency list in it: the JSON
// {"packages": [{"name", "version", "source", "kind", ...}, ...]},
// compressed with zlib, as the ELF section ".dep-v0" (PROGBITS with no
// flags: not loaded, and kept by strip). A wanted crate is reported when
// it comes from crates.io or another registry; a build dependency
// ("kind": "build") is not linked and is skipped; one from git or a local
// directory is a Note, since its version does not say which release it
// holds. Only ELF is read (cargo auditable's PE and Mach-O sections are
// not: images run Linux).
//
// Executables are streamed once, by goBuildinfo (a second cataloger
// wanting them would make the layer reader copy each one), and the section
// header table that says where .dep-v0 is comes at the end of the file,
// after the section. So depScanner watches the stream as the Go scanner
// reads it: it notes where the name ".dep-v0" is, decodes every zlib
// stream that inflates to a JSON object where it starts (reading ahead at
// most maxDepSection bytes, which it then hands on), and reads the
// section headers as they go by. At the end it keeps the list that is the
// content of the section named .dep-v0: one held elsewhere (another
// executable embedded as data) is not this executable's.
const (
	depSectionName = ".dep-v0"
	// maxDepSection bounds the compressed list (cargo auditable's is under
	// 4 KiB with 400 packages).
	maxDepSection = 1 << 20
	// maxDepJSON bounds the inflated list.
	maxDepJSON = 16 << 20
	// maxDepLists is how many decoded lists are kept while the section is
	// not known: the last ones, since .dep-v0 is not loaded and the
	// linkers place such sections after the loaded ones.
	maxDepLists = 8
	// maxDepNames is how many places of the name are kept, the last ones
	// (.shstrtab is near the end).
	maxDepNames = 16
	// maxELFSections bounds the section header table read (executables
	// have a few dozen sections).
	maxELFSections = 4096
	// depReadAhead is how much one read ahead takes.
	depReadAhead = 4096

	shtProgbits = 1
	// elfHeadSize is the size of an ELF64 header (ELF32's is 52 bytes).
	elfHeadSize = 64
)

var (
	depNameBytes = []byte(depSectionName + "\x00")
	// errDepTooLarge stops a zlib stream longer than maxDepSection.
	errDepTooLarge = errors.New("compressed list too large")
	// flateReaders keeps the decompressors of the lists, reset to read
	// nothing.
	flateReaders sync.Pool
)

// isELFHead reports whether a file starts like an ELF file.
func isELFHead(h []byte) bool { return len(h) >= 4 && string(h[:4]) == "\x7fELF" }

// elfLayout is what depScanner needs of an ELF header.
type elfLayout struct {
	order     binary.ByteOrder
	is64      bool
	shoff     int64
	shentsize int64
	shnum     int
	shstrndx  int
}

// parseELFHeader reads an ELF header; ok is false for a file that is not
// ELF or has no section header table depScanner can use.
func parseELFHeader(h []byte) (l elfLayout, ok bool) {
	if len(h) < elfHeadSize || !isELFHead(h) {
		return l, false
	}
	switch h[5] {
	case 1:
		l.order = binary.LittleEndian
	case 2:
		l.order = binary.BigEndian
	default:
		return l, false
	}
	var shoff uint64
	switch h[4] {
	case 1:
		shoff = uint64(l.order.Uint32(h[32:]))
		l.shentsize = int64(l.order.Uint16(h[46:]))
		l.shnum = int(l.order.Uint16(h[48:]))
		l.shstrndx = int(l.order.Uint16(h[50:]))
		ok = l.shentsize == 40
	case 2:
		l.is64 = true
		shoff = l.order.Uint64(h[40:])
		l.shentsize = int64(l.order.Uint16(h[58:]))
		l.shnum = int(l.order.Uint16(h[60:]))
		l.shstrndx = int(l.order.Uint16(h[62:]))
		ok = l.shentsize == 64
	}
	// shnum 0 with a table means 0xff00 sections or more, counted
	// elsewhere: not an executable's.
	if !ok || shoff < elfHeadSize || shoff > 1<<62 || l.shnum == 0 || l.shnum > maxELFSections || l.shstrndx >= l.shnum {
		return l, false
	}
	l.shoff = int64(shoff)
	return l, true
}

// elfSection is what depScanner keeps of a section header.
type elfSection struct {
	name      uint32
	typ       uint32
	off, size int64
}

func (l *elfLayout) section(b []byte) elfSection {
	s := elfSection{name: l.order.Uint32(b), typ: l.order.Uint32(b[4:])}
	if l.is64 {
		off, size := l.order.Uint64(b[24:]), l.order.Uint64(b[32:])
		if off > 1<<62 || size > 1<<62 {
			return elfSection{}
		}
		s.off, s.size = int64(off), int64(size)
	} else {
		s.off, s.size = int64(l.order.Uint32(b[16:])), int64(l.order.Uint32(b[20:]))
	}
	return s
}

// crate is a wanted package of a dependency list.
type crate struct{ name, version, source, kind string }

// depList is a zlib stream found in the file, decoded.
type depList struct {
	off, n int64 // where the stream starts and its length
	crates []crate
	err    string // why it could not be read, "" when it was
}

// depScanner passes a file's stream on, reading it as described above.
// What it holds is bounded: the read-ahead (maxDepSection), the lists'
// wanted crates, and the section headers (maxELFSections).
type depScanner struct {
	r        io.Reader
	maxZ     int   // the most compressed bytes one list may take
	maxJSON  int64 // the most bytes it may inflate to
	off      int64 // the file offset of the next byte Read returns
	ahead    []byte
	pos      int   // ahead[pos:] is read from r and not yet returned
	aheadErr error // r's error, returned once ahead is drained

	on       bool // the file may still be an ELF file with a table
	parsed   bool
	head     [elfHeadSize]byte
	elf      elfLayout
	entry    [64]byte // the section header being read
	sections []elfSection
	names    [maxDepNames]int64
	nNames   int
	tail     [len(depSectionName)]byte // the bytes before off, for a name across reads
	nTail    int
	skipTo   int64 // no list starts before: the inside of a decoded one
	lists    []depList
	nLists   int

	fr    io.ReadCloser // a flate decompressor
	cr    candidateReader
	start [2]byte // what a stream inflates to first (not on the stack: it escapes)
}

func newDepScanner(r io.Reader, lim Limits) *depScanner {
	return &depScanner{r: r, maxZ: int(lim.capped(maxDepSection)), maxJSON: lim.capped(maxDepJSON), on: true}
}

func (d *depScanner) Read(p []byte) (int, error) {
	var n int
	var err error
	switch {
	case d.pos < len(d.ahead):
		n = copy(p, d.ahead[d.pos:])
		d.pos += n
	case d.aheadErr != nil:
		return 0, d.aheadErr
	default:
		n, err = d.r.Read(p)
	}
	if d.on && n > 0 {
		d.observe(p[:n])
	}
	d.off += int64(n)
	return n, err
}

// readAhead reads more of r into ahead. It returns false when r has
// nothing more.
func (d *depScanner) readAhead() bool {
	if d.aheadErr != nil {
		return false
	}
	if d.pos == len(d.ahead) {
		d.ahead, d.pos = d.ahead[:0], 0
	}
	if cap(d.ahead)-len(d.ahead) < depReadAhead {
		if d.pos > 0 {
			d.ahead = d.ahead[:copy(d.ahead, d.ahead[d.pos:])]
			d.pos = 0
		}
		if cap(d.ahead)-len(d.ahead) < depReadAhead {
			nb := make([]byte, len(d.ahead), 2*cap(d.ahead)+depReadAhead)
			copy(nb, d.ahead)
			d.ahead = nb
		}
	}
	n, err := d.r.Read(d.ahead[len(d.ahead) : len(d.ahead)+depReadAhead])
	d.ahead = d.ahead[:len(d.ahead)+n]
	if err != nil {
		d.aheadErr = err
	}
	return n > 0
}

// byteAt returns the byte i of b, or past b's end, of what follows it.
func (d *depScanner) byteAt(b []byte, i int) (byte, bool) {
	if i < len(b) {
		return b[i], true
	}
	for {
		if j := d.pos + i - len(b); j < len(d.ahead) {
			return d.ahead[j], true
		}
		if !d.readAhead() {
			return 0, false
		}
	}
}

// observe reads b, the file's bytes at d.off, on their way on.
func (d *depScanner) observe(b []byte) {
	off, end := d.off, d.off+int64(len(b))
	if !d.parsed {
		if off < elfHeadSize {
			copy(d.head[off:], b)
		}
		if end < elfHeadSize {
			return
		}
		d.parsed = true
		if d.elf, d.on = parseELFHeader(d.head[:]); !d.on {
			return
		}
	}
	if off < elfHeadSize {
		// Nothing is looked for in the header: skip it however the file
		// is split into reads.
		b, off = b[elfHeadSize-off:], elfHeadSize
	}
	l := &d.elf
	if table := l.shoff + int64(l.shnum)*l.shentsize; end > l.shoff && off < table {
		for p := max(off, l.shoff); p < min(end, table); {
			i := (p - l.shoff) % l.shentsize
			n := min(min(end, table)-p, l.shentsize-i)
			copy(d.entry[i:], b[p-off:p-off+n])
			p += n
			if i+n == l.shentsize {
				d.sections = append(d.sections, l.section(d.entry[:l.shentsize]))
			}
		}
	}
	d.findNames(b, off)
	d.findLists(b, off)
}

// findNames notes where ".dep-v0\x00" is in b, at file offset off, or
// begins before it.
func (d *depScanner) findNames(b []byte, off int64) {
	var joint [2 * len(depSectionName)]byte
	j := copy(joint[:], d.tail[:d.nTail])
	j += copy(joint[j:], b)
	for i := range d.nTail {
		if bytes.HasPrefix(joint[i:j], depNameBytes) {
			d.addName(off - int64(d.nTail-i))
		}
	}
	for i := 0; ; {
		k := bytes.Index(b[i:], depNameBytes)
		if k < 0 {
			break
		}
		d.addName(off + int64(i+k))
		i += k + 1
	}
	if len(b) >= len(d.tail) {
		d.nTail = copy(d.tail[:], b[len(b)-len(d.tail):])
	} else {
		d.nTail = copy(d.tail[:], joint[max(j-len(d.tail), 0):j])
	}
}

func (d *depScanner) addName(at int64) {
	d.names[d.nNames%maxDepNames] = at
	d.nNames++
}

// findLists decodes the zlib streams that start in b, at file offset off.
func (d *depScanner) findLists(b []byte, off int64) {
	for i := int(min(max(d.skipTo-off, 0), int64(len(b)))); i < len(b); i++ {
		k := bytes.IndexByte(b[i:], 0x78)
		if k < 0 {
			return
		}
		i += k
		// The zlib header (RFC 1950): deflate with a 32 KiB window (0x78),
		// a check that makes it a multiple of 31, no preset dictionary;
		// then a deflate block of a type that exists.
		flg, ok := d.byteAt(b, i+1)
		if !ok || (0x78<<8|int(flg))%31 != 0 || flg&0x20 != 0 {
			continue
		}
		if b0, ok := d.byteAt(b, i+2); !ok || b0>>1&3 == 3 {
			continue
		}
		d.decodeList(b[i:], off+int64(i))
		if s := d.skipTo - off; s > int64(i+1) {
			i = int(min(s, int64(len(b)))) - 1
		}
	}
}

// decodeList decodes the zlib stream at rest, at file offset at, when it
// inflates to a JSON object, and keeps what it holds. The deflate data is
// inflated without the zlib reader, whose checksum costs an allocation
// for each of the many streams that are none; the checksum of a list is
// checked here.
func (d *depScanner) decodeList(rest []byte, at int64) {
	// Past the zlib header, which may end after rest.
	h := min(len(rest), 2)
	d.cr = candidateReader{d: d, b: rest[h:], k: 2 - h, n: 2, max: d.maxZ}
	if d.fr == nil {
		if fr, ok := flateReaders.Get().(io.ReadCloser); ok {
			d.fr = fr
		} else {
			d.fr = flate.NewReader(&d.cr)
		}
	}
	if err := d.fr.(flate.Resetter).Reset(&d.cr, nil); err != nil {
		return
	}
	start := d.start[:]
	if _, err := io.ReadFull(d.fr, start); err != nil || string(start) != `{"` {
		return
	}
	list := depList{off: at}
	sum := adler32.New()
	sum.Write(start)
	jr := &capReader{r: io.TeeReader(d.fr, sum), left: d.maxJSON - 2}
	err := readDepList(io.MultiReader(bytes.NewReader(start), jr), func(c crate) {
		if isWanted("cargo", "", c.name) {
			list.crates = append(list.crates, c)
		}
	})
	if err == nil {
		// Inflate the rest, and check the checksum after it.
		_, err = io.Copy(io.Discard, jr)
	}
	if err == nil {
		var want [4]byte
		if _, err = io.ReadFull(&d.cr, want[:]); err == nil && binary.BigEndian.Uint32(want[:]) != sum.Sum32() {
			err = zlib.ErrChecksum
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	}
	list.n = int64(d.cr.n)
	switch {
	case errors.Is(err, errDepTooLarge) || jr.hit:
		list.err = fmt.Sprintf("larger than %d bytes compressed or %d inflated: not read", d.maxZ, d.maxJSON)
	case err != nil:
		list.err = fmt.Sprintf("not a zlib-compressed JSON dependency list: %v", err)
	default:
		d.skipTo = at + list.n
	}
	if len(d.lists) < maxDepLists {
		d.lists = append(d.lists, list)
	} else {
		d.lists[d.nLists%maxDepLists] = list
	}
	d.nLists++
}

// close returns the decompressor to the pool, holding nothing of the
// file.
func (d *depScanner) close() {
	if d.fr == nil {
		return
	}
	if d.fr.(flate.Resetter).Reset(bytes.NewReader(nil), nil) == nil {
		flateReaders.Put(d.fr)
	}
	d.fr = nil
}

// readDepList calls fn for each package of a dependency list.
func readDepList(r io.Reader, fn func(crate)) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	seen := false
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return err
		}
		if key != "packages" || seen {
			if err := skipValue(dec); err != nil {
				return err
			}
			continue
		}
		seen = true
		if err := expectDelim(dec, '['); err != nil {
			return err
		}
		for dec.More() {
			var p struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				Source  string `json:"source"`
				Kind    string `json:"kind"`
			}
			if err := dec.Decode(&p); err != nil {
				if _, ok := err.(*json.UnmarshalTypeError); ok {
					continue
				}
				return err
			}
			fn(crate{name: p.Name, version: p.Version, source: p.Source, kind: p.Kind})
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if !seen {
		return errors.New(`no "packages"`)
	}
	return nil
}

// report adds the crates of the list in the section .dep-v0, once the
// whole file has gone by. Crates go to rust; notes about the file too.
func (d *depScanner) report(rust *results, file string) {
	if !d.on || !d.parsed || len(d.sections) < d.elf.shnum {
		return
	}
	strtab := d.sections[d.elf.shstrndx]
	for _, s := range d.sections {
		if s.typ == shtProgbits && s.size > 0 && d.named(strtab, s.name) {
			d.reportSection(rust, file, s)
		}
	}
}

// named reports whether the name at index name of the section name table
// is .dep-v0.
func (d *depScanner) named(strtab elfSection, name uint32) bool {
	if int64(name)+int64(len(depNameBytes)) > strtab.size {
		return false
	}
	at := strtab.off + int64(name)
	for i := range min(d.nNames, maxDepNames) {
		if d.names[i] == at {
			return true
		}
	}
	return false
}

func (d *depScanner) reportSection(rust *results, file string, s elfSection) {
	var list *depList
	for i := range d.lists {
		if d.lists[i].off == s.off {
			list = &d.lists[i]
		}
	}
	const what = "Rust dependency list (section " + depSectionName + ")"
	switch {
	case list == nil && s.size > int64(d.maxZ):
		rust.note(file, fmt.Sprintf("%s larger than %d bytes: not read", what, d.maxZ))
		return
	case list == nil:
		rust.note(file, what+" is not zlib-compressed JSON: not read")
		return
	case list.err != "":
		rust.note(file, what+" "+list.err)
		return
	case list.n > s.size:
		rust.note(file, what+" runs past the end of its section: not read")
		return
	}
	for _, c := range list.crates {
		switch {
		case c.kind == "build":
			// Run while building, not linked.
		case c.version == "":
			rust.note(file, fmt.Sprintf("Rust crate %s without a version in the dependency list", c.name))
		case c.source == "crates.io" || c.source == "registry":
			rust.found(file, "cargo", "", c.name, c.version)
		default:
			rust.note(file, fmt.Sprintf("Rust crate %s %s is built from a %q source, not a registry: its version does not say which release it holds", c.name, c.version, c.source))
		}
	}
}

// candidateReader reads a zlib stream that starts in the bytes being
// observed and goes on in what follows them, reading ahead as needed,
// at most max bytes (n counts the header too). It is a flate.Reader, so
// that the decompressor reads no byte past the deflate data.
type candidateReader struct {
	d      *depScanner
	b      []byte // the rest of the bytes being observed
	k      int    // bytes of d.ahead[d.pos:] read
	n, max int
}

func (c *candidateReader) ReadByte() (byte, error) {
	if len(c.b) > 0 && c.n < c.max {
		x := c.b[0]
		c.b = c.b[1:]
		c.n++
		return x, nil
	}
	var one [1]byte
	if _, err := c.Read(one[:]); err != nil {
		return 0, err
	}
	return one[0], nil
}

func (c *candidateReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		return 0, errDepTooLarge
	}
	p = p[:min(len(p), c.max-c.n)]
	var n int
	if len(c.b) > 0 {
		n = copy(p, c.b)
		c.b = c.b[n:]
	} else {
		for c.d.pos+c.k >= len(c.d.ahead) {
			if !c.d.readAhead() {
				return 0, io.EOF
			}
		}
		n = copy(p, c.d.ahead[c.d.pos+c.k:])
		c.k += n
	}
	c.n += n
	return n, nil
}
