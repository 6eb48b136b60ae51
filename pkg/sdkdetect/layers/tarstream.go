package layers

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
)

// tarStream reads a tar stream's headers in place, from a bufio.Reader's
// buffer, allocating nothing per entry. archive/tar allocates a Header and
// its strings for every entry and scans each header block rune by rune:
// on a layer of 100,000 small files that tripled the cost of a scan over
// that of decompressing the layer. tarStream reads what the layer reader
// needs (names, link names, types, sizes, modes) and agrees with
// archive/tar on every archive archive/tar reads (FuzzTarStreamAgrees):
// USTAR, PAX (path, linkpath, size records), GNU (long names, old sparse
// files), STAR and V7 headers, base-256 sizes. It does not expand sparse
// files: it reports them, and skips their data.
type tarStream struct {
	br *bufio.Reader
	// content is what remains of the current entry's content in the
	// stream, pad the padding after it.
	content, pad int64

	hdr tarHeader
	// Buffers the header's names are assembled in, and the data of the
	// PAX and GNU meta entries that precede it.
	name, link, meta []byte
	pax              paxRecords
	longName         []byte
	longLink         []byte
}

// tarHeader is one entry of a tar stream. Its slices are valid until the
// next call of tarStream.next.
type tarHeader struct {
	typ  byte
	name []byte // as stored: not clean, maybe relative
	link []byte
	// size is the content's length: for a sparse file its expanded length.
	size   int64
	mode   int64
	sparse bool
}

// paxRecords are the records of a PAX extended header that the layer
// reader uses, or that archive/tar checks. As in archive/tar, the last
// record of a key wins, and an empty value means the header's own.
type paxRecords struct {
	path, linkpath []byte // empty: absent
	size           int64
	hasSize        bool
	// invalid: a uid, gid, size or time record archive/tar refuses.
	invalid bool
	// GNU sparse files in PAX form (GNU tar 1.15 to 1.28).
	sparseMajor, sparseMinor, sparseName, sparseSize []byte
	sparseMap                                        bool
	sparseMapLen                                     int // offset/numbytes records, for their order
}

const (
	blockSize = 512
	// maxMetaSize bounds the data of a PAX or GNU long-name entry, as
	// archive/tar does.
	maxMetaSize = 1 << 20
)

// errTarHeader is a header archive/tar would refuse.
var errTarHeader = errors.New("invalid tar header")

func (ts *tarStream) reset(br *bufio.Reader) {
	ts.br = br
	ts.content, ts.pad = 0, 0
	ts.clearMeta()
}

func (ts *tarStream) clearMeta() {
	ts.pax.reset()
	ts.longName, ts.longLink = ts.longName[:0], ts.longLink[:0]
}

// next skips what is left of the current entry and returns the next one,
// or io.EOF at the end-of-archive marker or where the stream ends between
// entries. Like archive/tar, it takes a stream that ends within the
// padding after an entry as ended; the layer reader checks the end itself
// (tarReader.ended).
func (ts *tarStream) next() (*tarHeader, error) {
	if err := ts.discard(ts.content); err != nil {
		return nil, err
	}
	ts.content = 0
	ts.clearMeta()
	for {
		if ts.pad > 0 {
			pad := ts.pad
			ts.pad = 0
			if n, err := ts.br.Discard(int(pad)); err != nil {
				if err == io.EOF && int64(n) < pad {
					return nil, io.EOF
				}
				return nil, err
			}
		}
		blk, err := ts.br.Peek(blockSize)
		if err != nil {
			if err == io.EOF {
				if len(blk) == 0 {
					return nil, io.EOF
				}
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if blk[0] == 0 && isZeroBlock(blk) {
			ts.br.Discard(blockSize)
			return nil, io.EOF // the caller reads and checks what follows
		}
		format, ok := blockFormat(blk)
		if !ok {
			return nil, errTarHeader
		}
		typ := blk[156]
		size, ok := fastNumeric12(blk[124:136])
		if !ok {
			size, ok = parseNumeric(blk[124:136])
		}
		if !ok || !checkNumerics(blk, format) || (size < 0 && !isHeaderOnly(typ)) {
			return nil, errTarHeader
		}
		switch typ {
		case 'x', 'g', 'L', 'K':
			ts.br.Discard(blockSize)
			data, err := ts.readMeta(size)
			if err != nil {
				return nil, err
			}
			ts.pad = padding(size)
			switch typ {
			case 'x':
				if err := ts.pax.parse(data); err != nil {
					return nil, err
				}
			case 'g':
				// archive/tar returns a global header as an entry of its
				// own; it applies to no file here.
				var global paxRecords
				if err := global.parse(data); err != nil {
					return nil, err
				}
				ts.clearMeta()
				return ts.global(), nil
			case 'L':
				ts.longName = append(ts.longName[:0], cString(data)...)
			case 'K':
				ts.longLink = append(ts.longLink[:0], cString(data)...)
			}
			continue
		}
		return ts.entry(blk, format, typ, size)
	}
}

// global is the entry for a PAX global header: no file.
func (ts *tarStream) global() *tarHeader {
	ts.hdr = tarHeader{typ: 'g', name: ts.name[:0], link: ts.link[:0]}
	return &ts.hdr
}

// entry completes the header of a file entry whose block is blk.
func (ts *tarStream) entry(blk []byte, format tarFormat, typ byte, size int64) (*tarHeader, error) {
	h := &ts.hdr
	*h = tarHeader{typ: typ}
	mode, _ := parseNumeric(blk[100:108])
	h.mode = mode

	// The name: PAX path, GNU long name, or the header's (with its USTAR
	// prefix).
	if ts.pax.invalid {
		return nil, errTarHeader
	}
	name := ts.name[:0]
	switch {
	case len(ts.longName) > 0: // archive/tar lets it override PAX's path
		name = append(name, ts.longName...)
	case len(ts.pax.path) > 0:
		name = append(name, ts.pax.path...)
	default:
		if prefix := format.prefix(blk); len(prefix) > 0 {
			name = append(append(name, prefix...), '/')
		}
		name = append(name, cString(blk[0:100])...)
	}
	link := ts.link[:0]
	switch {
	case len(ts.longLink) > 0:
		link = append(link, ts.longLink...)
	case len(ts.pax.linkpath) > 0:
		link = append(link, ts.pax.linkpath...)
	default:
		link = append(link, cString(blk[157:257])...)
	}
	if ts.pax.hasSize {
		size = ts.pax.size
	}
	if typ == 0 {
		h.typ = '0'
		if len(name) > 0 && name[len(name)-1] == '/' {
			h.typ = '5' // V7 archives mark directories with a slash
		}
	}
	physical := size
	if isHeaderOnly(h.typ) {
		physical = 0
	}
	if physical < 0 {
		return nil, errTarHeader
	}
	h.size = size

	// Sparse files: the old GNU form keeps the expanded size in the
	// header and its map in extension blocks before the data; the PAX
	// forms keep them in records (and, for 1.0, in the data).
	ts.br.Discard(blockSize)
	if h.typ == 'S' {
		if format != formatGNU {
			return nil, errTarHeader // a STAR sparse file: archive/tar refuses it too
		}
		real, ok := parseNumeric(blk[483:495])
		if !ok {
			return nil, errTarHeader
		}
		extended := blk[482] != 0
		if err := ts.skipSparseExtensions(extended); err != nil {
			return nil, err
		}
		h.size, h.sparse = real, true
	} else if sparse, err := ts.pax.sparse(); err != nil {
		return nil, err
	} else if sparse {
		if isHeaderOnly(h.typ) {
			return nil, errTarHeader
		}
		h.sparse = true
		if len(ts.pax.sparseName) > 0 {
			name = append(name[:0], ts.pax.sparseName...)
		}
		if len(ts.pax.sparseSize) > 0 {
			n, ok := parseDecimal(ts.pax.sparseSize)
			if !ok {
				return nil, errTarHeader
			}
			h.size = n
		}
	}
	ts.name, ts.link = name, link
	h.name, h.link = name, link
	ts.content, ts.pad = physical, padding(physical)
	return h, nil
}

// skipSparseExtensions skips the extension blocks of an old GNU sparse
// header, which follow it when its isextended flag is set.
func (ts *tarStream) skipSparseExtensions(extended bool) error {
	for n := 0; extended; n++ {
		if n > maxMetaSize/blockSize {
			return errTarHeader
		}
		blk, err := ts.br.Peek(blockSize)
		if err != nil {
			return unexpected(err)
		}
		extended = blk[504] != 0
		ts.br.Discard(blockSize)
	}
	return nil
}

// readMeta reads the data of a meta entry into ts.meta.
func (ts *tarStream) readMeta(size int64) ([]byte, error) {
	if size > maxMetaSize {
		return nil, errTarHeader
	}
	if int64(cap(ts.meta)) < size {
		ts.meta = make([]byte, size)
	}
	data := ts.meta[:size]
	if _, err := io.ReadFull(ts.br, data); err != nil {
		return nil, unexpected(err)
	}
	return data, nil
}

// discard skips n bytes of the stream.
func (ts *tarStream) discard(n int64) error {
	for n > 0 {
		k := int(min(n, 1<<30))
		d, err := ts.br.Discard(k)
		n -= int64(d)
		if err != nil {
			return unexpected(err)
		}
	}
	return nil
}

// Read reads the current entry's content (a sparse file's stored data,
// not expanded).
func (ts *tarStream) Read(p []byte) (int, error) {
	if ts.content <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > ts.content {
		p = p[:ts.content]
	}
	n, err := ts.br.Read(p)
	ts.content -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func padding(n int64) int64 { return -n & (blockSize - 1) }

func isHeaderOnly(typ byte) bool { return typ >= '1' && typ <= '6' }

func isZeroBlock(b []byte) bool {
	for i := 0; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:]) != 0 {
			return false
		}
	}
	return true
}

// cString is b up to its first NUL.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// tarFormat is a header block's format, told by its magic.
type tarFormat int

const (
	formatV7 tarFormat = iota
	formatUSTAR
	formatSTAR
	formatGNU
)

// blockFormat checks a header block's checksum and tells its format.
func blockFormat(b []byte) (tarFormat, bool) {
	want, ok := parseOctal(b[148:156])
	if !ok || (want != unsignedChecksum(b) && want != signedChecksum(b)) {
		return 0, false
	}
	magic, version := b[257:263], b[263:265]
	switch {
	case string(magic) == "ustar\x00" && string(b[508:512]) == "tar\x00":
		return formatSTAR, true
	case string(magic) == "ustar\x00":
		return formatUSTAR, true
	case string(magic) == "ustar " && string(version) == " \x00":
		return formatGNU, true
	}
	return formatV7, true
}

// prefix is the USTAR or STAR name prefix of a header block, or for a GNU
// block written by Go before 1.8 (which put a prefix there), what
// archive/tar takes for one.
func (f tarFormat) prefix(b []byte) []byte {
	switch f {
	case formatUSTAR:
		return cString(b[345:500])
	case formatSTAR:
		return cString(b[345:476])
	case formatGNU:
		_, okA := parseGNUTime(b[345:357])
		_, okC := parseGNUTime(b[357:369])
		if okA && okC {
			return nil
		}
		if p := cString(b[345:500]); isASCII(p) {
			return p
		}
	}
	return nil
}

func parseGNUTime(b []byte) (int64, bool) {
	if b[0] == 0 {
		return 0, true
	}
	return parseNumeric(b)
}

// checkNumerics checks the numeric fields archive/tar parses besides the
// size, so that a header it refuses is refused here too.
func checkNumerics(b []byte, f tarFormat) bool {
	// mode, uid, gid; mtime
	if !validNumeric8(b[100:108]) || !validNumeric8(b[108:116]) || !validNumeric8(b[116:124]) || !validNumeric12(b[136:148]) {
		return false
	}
	if f == formatV7 {
		return true
	}
	// devmajor, devminor
	if !validNumeric8(b[329:337]) || !validNumeric8(b[337:345]) {
		return false
	}
	if f == formatSTAR {
		for _, r := range [...][2]int{{476, 488}, {488, 500}} { // atime, ctime
			if _, ok := parseNumeric(b[r[0]:r[1]]); !ok {
				return false
			}
		}
	}
	return true
}

// Most numeric fields are written as octal digits and a NUL ("0000644\x00",
// "00000001750\x00"): validNumeric8 and validNumeric12 check those with a
// few word operations, and hand any other to parseNumeric.
const (
	octalMask  = 0x00f8f8f8f8f8f8f8 // seven bytes, each 0x30..0x37, then NUL
	octalWant  = 0x0030303030303030
	octal8Mask = 0xf8f8f8f8f8f8f8f8
	octal8Want = 0x3030303030303030
)

func validNumeric8(b []byte) bool {
	w := binary.LittleEndian.Uint64(b)
	if w&(octalMask|0xff00000000000000) == octalWant {
		return true
	}
	_, ok := parseNumeric(b)
	return ok
}

func validNumeric12(b []byte) bool {
	w0, w1 := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint32(b[8:])
	if w0&octal8Mask == octal8Want && w1&0xfff8f8f8 == 0x00303030 {
		return true
	}
	_, ok := parseNumeric(b)
	return ok
}

// fastNumeric12 parses a 12-byte field written as eleven octal digits and
// a NUL; ok is false for any other form.
func fastNumeric12(b []byte) (int64, bool) {
	w0, w1 := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint32(b[8:])
	if w0&octal8Mask != octal8Want || w1&0xfff8f8f8 != 0x00303030 {
		return 0, false
	}
	var x int64
	for _, c := range b[:11] {
		x = x<<3 | int64(c-'0')
	}
	return x, true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// unsignedChecksum sums the block's bytes, the checksum field counting as
// spaces, eight bytes at a time.
func unsignedChecksum(b []byte) int64 {
	const lo = 0x00ff00ff00ff00ff
	b = b[:blockSize]
	// Four 16-bit lanes in each accumulator: 32 words of two bytes each
	// stay below 65536.
	var a0, a1 uint64
	for i := 0; i < blockSize; i += 16 {
		w0 := binary.LittleEndian.Uint64(b[i:])
		w1 := binary.LittleEndian.Uint64(b[i+8:])
		a0 += w0&lo + (w0>>8)&lo
		a1 += w1&lo + (w1>>8)&lo
	}
	lanes := func(a uint64) int64 {
		a = a&0x0000ffff0000ffff + (a>>16)&0x0000ffff0000ffff
		return int64(a&0xffffffff + a>>32)
	}
	sum := lanes(a0) + lanes(a1)
	for _, c := range b[148:156] {
		sum -= int64(c)
	}
	return sum + 8*' '
}

// signedChecksum is the checksum of old tars that summed signed bytes.
func signedChecksum(b []byte) int64 {
	var s int64
	for i, c := range b[:blockSize] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		s += int64(int8(c))
	}
	return s
}

// parseNumeric parses a numeric field: octal text, or base-256 when its
// first byte has the high bit set.
func parseNumeric(b []byte) (int64, bool) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		var inv byte
		if b[0]&0x40 != 0 {
			inv = 0xff
		}
		var x uint64
		for i, c := range b {
			c ^= inv
			if i == 0 {
				c &= 0x7f
			}
			if x>>56 > 0 {
				return 0, false
			}
			x = x<<8 | uint64(c)
		}
		if x>>63 > 0 {
			return 0, false
		}
		if inv == 0xff {
			return ^int64(x), true
		}
		return int64(x), true
	}
	return parseOctal(b)
}

// parseOctal parses octal text padded with spaces and NULs, as
// archive/tar does: trimmed of both, then cut at a NUL.
func parseOctal(b []byte) (int64, bool) {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == 0) {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == 0) {
		j--
	}
	var x uint64
	for _, c := range cString(b[i:j]) {
		if c < '0' || c > '7' || x>>61 != 0 {
			return 0, false
		}
		x = x<<3 | uint64(c-'0')
	}
	return int64(x), true
}

func (r *paxRecords) reset() {
	*r = paxRecords{
		path: r.path[:0], linkpath: r.linkpath[:0],
		sparseMajor: r.sparseMajor[:0], sparseMinor: r.sparseMinor[:0],
		sparseName: r.sparseName[:0], sparseSize: r.sparseSize[:0],
	}
}

// parse reads the records of a PAX extended header ("%d %s=%s\n"),
// replacing earlier ones, with archive/tar's checks: a malformed record is
// an error now, a bad value (archive/tar checks them when it applies them
// to the next file) makes invalid.
func (r *paxRecords) parse(data []byte) error {
	r.reset()
	// The last value of each key archive/tar checks, and of the GNU
	// sparse sizes (the first of which is used).
	var uid, gid, size, mtime, atime, ctime, sparseSize, sparseRealSize []byte
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp < 0 {
			return errTarHeader
		}
		n, ok := parseDecimal(data[:sp])
		if !ok || n < 5 || n > int64(len(data)) || n <= int64(sp+1) {
			return errTarHeader
		}
		rec, rest := data[sp+1:n], data[n:]
		if rec[len(rec)-1] != '\n' {
			return errTarHeader
		}
		rec = rec[:len(rec)-1]
		eq := bytes.IndexByte(rec, '=')
		if eq <= 0 {
			return errTarHeader
		}
		k, v := rec[:eq], rec[eq+1:]
		switch string(k) {
		case "path", "linkpath", "uname", "gname":
			if bytes.IndexByte(v, 0) >= 0 {
				return errTarHeader
			}
		default:
			if bytes.IndexByte(k, 0) >= 0 {
				return errTarHeader
			}
		}
		switch string(k) {
		case "GNU.sparse.offset", "GNU.sparse.numbytes":
			if (r.sparseMapLen%2 == 0) != (string(k) == "GNU.sparse.offset") || bytes.IndexByte(v, ',') >= 0 {
				return errTarHeader
			}
			r.sparseMapLen++
		case "path":
			r.path = append(r.path[:0], v...)
		case "linkpath":
			r.linkpath = append(r.linkpath[:0], v...)
		case "size":
			size = v
		case "uid":
			uid = v
		case "gid":
			gid = v
		case "mtime":
			mtime = v
		case "atime":
			atime = v
		case "ctime":
			ctime = v
		case "GNU.sparse.major":
			r.sparseMajor = append(r.sparseMajor[:0], v...)
		case "GNU.sparse.minor":
			r.sparseMinor = append(r.sparseMinor[:0], v...)
		case "GNU.sparse.name":
			r.sparseName = append(r.sparseName[:0], v...)
		case "GNU.sparse.size":
			sparseSize = v
		case "GNU.sparse.realsize":
			sparseRealSize = v
		case "GNU.sparse.map":
			r.sparseMap = len(v) > 0
		}
		data = rest
	}
	// archive/tar joins offset/numbytes records into the map, over any
	// map record.
	if r.sparseMapLen > 0 {
		r.sparseMap = true
	}
	for _, v := range [...][]byte{uid, gid} {
		if _, ok := parseDecimal(v); len(v) > 0 && !ok {
			r.invalid = true
		}
	}
	for _, v := range [...][]byte{mtime, atime, ctime} {
		if len(v) > 0 && !validPAXTime(v) {
			r.invalid = true
		}
	}
	if len(size) > 0 {
		r.size, r.hasSize = parseDecimal(size)
		r.invalid = r.invalid || !r.hasSize
	}
	if len(sparseSize) == 0 {
		sparseSize = sparseRealSize
	}
	r.sparseSize = append(r.sparseSize[:0], sparseSize...)
	return nil
}

// sparse says whether the records describe a GNU sparse file, as
// archive/tar's readGNUSparsePAXHeaders decides.
func (r *paxRecords) sparse() (bool, error) {
	major, minor := string(r.sparseMajor), string(r.sparseMinor)
	switch {
	case major == "0" && (minor == "0" || minor == "1"), major == "1" && minor == "0":
		return true, nil
	case major != "" || minor != "":
		return false, nil
	}
	return r.sparseMap, nil
}

// parseDecimal parses a signed decimal int64 as strconv.ParseInt(s, 10,
// 64) does, without allocating.
func parseDecimal(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var x uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if x > (1<<63)/10 {
			return 0, false
		}
		x = x*10 + uint64(c-'0')
	}
	switch {
	case !neg && x > math.MaxInt64:
		return 0, false
	case neg && x > 1<<63:
		return 0, false
	case neg:
		return -int64(x), true
	}
	return int64(x), true
}

// validPAXTime reports whether archive/tar parses a PAX time record:
// decimal seconds, optionally "." and decimal digits.
func validPAXTime(b []byte) bool {
	secs, frac, _ := bytes.Cut(b, []byte("."))
	if _, ok := parseDecimal(secs); !ok {
		return false
	}
	for _, c := range frac {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
