package filecat

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A zip archive is read here as a stream, through the local header before
// each entry's data, without the central directory at its end (which needs
// random access). Entries whose sizes the local header leaves out (bit 3:
// a data descriptor follows the data, as java.util.zip writes) are found
// by inflating them; a stored entry without sizes, which Java's tools do
// not write, is skipped by finding its data descriptor. Reading stops at
// the central directory.

const (
	zipLocalSig      = "PK\x03\x04"
	zipCentralSig    = "PK\x01\x02"
	zipEndSig        = "PK\x05\x06"
	zip64EndSig      = "PK\x06\x06"
	zip64LocatorSig  = "PK\x06\x07"
	zipDescriptorSig = "PK\x07\x08"
	zipHeaderLen     = 30
	zipBufSize       = 32 << 10

	zipStore   = 0
	zipDeflate = 8
)

var errOverBudget = errors.New("inflate budget spent")

// zipStream reads one file's archives: level 0 is the file, level d+1 an
// archive nested in an entry of level d.
type zipStream struct {
	levels [maxJavaDepth]zipLevel
	// budget is how many more bytes may be inflated, in all levels.
	budget     int64
	overBudget bool
	metaMax    int64
	meta       []byte // the last metadata entry read
	name       []byte
}

type zipLevel struct {
	br *bufio.Reader
	fl io.ReadCloser // a flate reader, reset for each entry
}

func newZipStream(r io.Reader, budget, metaMax int64) *zipStream {
	z := &zipStream{budget: budget, metaMax: metaMax}
	z.levels[0].br = bufio.NewReaderSize(r, zipBufSize)
	return z
}

// skipPreamble moves to the first local header, within max bytes; it
// reports whether there is one.
func (z *zipStream) skipPreamble(max int) bool {
	br := z.levels[0].br
	for skipped := 0; skipped <= max; {
		b, err := br.Peek(zipBufSize)
		if k := bytes.Index(b, []byte(zipLocalSig)); k >= 0 {
			br.Discard(k)
			return true
		}
		if err != nil || len(b) < len(zipLocalSig) {
			return false
		}
		n, _ := br.Discard(len(b) - (len(zipLocalSig) - 1))
		skipped += n
	}
	return false
}

// zipEntry is the entry being read.
type zipEntry struct {
	z      *zipStream
	depth  int
	name   string
	flags  uint16
	method uint16
	csize  uint64
	usize  uint64
	// Bit 3: sizes come after the data.
	descriptor bool

	raw     *io.LimitedReader // the data, when its size is known
	counted *countingReader   // the data, when it is not (deflated)
	content io.Reader         // the inflated data, once opened
	problem string
}

// sizeKnown reports whether the local header gives the data's size.
func (e *zipEntry) sizeKnown() bool {
	if e.descriptor && e.method == zipDeflate {
		return false // inflate to find the end; sizes here are unreliable
	}
	return !e.descriptor || e.csize != 0
}

// open returns the entry's inflated content, or a problem saying why it
// cannot be read.
func (e *zipEntry) open() (io.Reader, string) {
	if e.content != nil || e.problem != "" {
		return e.content, e.problem
	}
	lvl := &e.z.levels[e.depth]
	switch {
	case e.flags&1 != 0:
		e.problem = "entry is encrypted: not read"
	case e.method != zipStore && e.method != zipDeflate:
		e.problem = fmt.Sprintf("entry compressed with method %d: not read", e.method)
	case !e.sizeKnown() && e.method == zipStore:
		e.problem = "entry stored without its size: not read"
	case e.method == zipStore:
		e.content = e.raw
	default:
		var src io.Reader = e.raw
		if e.raw == nil {
			e.counted = &countingReader{br: lvl.br}
			src = e.counted
		}
		if lvl.fl == nil {
			lvl.fl = flate.NewReader(src)
		} else {
			lvl.fl.(flate.Resetter).Reset(src, nil)
		}
		e.content = &budgetReader{r: lvl.fl, z: e.z}
	}
	return e.content, e.problem
}

// readAll reads a metadata entry, up to the metadata cap.
func (e *zipEntry) readAll() ([]byte, string) {
	r, problem := e.open()
	if problem != "" {
		return nil, problem
	}
	b, _, err := readCapped(r, e.z.meta, e.z.metaMax)
	e.z.meta = b[:0]
	if err != nil {
		return nil, fmt.Sprintf("entry is malformed: %v", err)
	}
	return b, ""
}

// openNested makes the entry the archive that level depth+1 reads.
func (e *zipEntry) openNested() string {
	r, problem := e.open()
	if problem != "" {
		return problem
	}
	next := &e.z.levels[e.depth+1]
	if next.br == nil {
		next.br = bufio.NewReaderSize(r, zipBufSize)
	} else {
		next.br.Reset(r)
	}
	return ""
}

// entries reads the entries of the archive at level depth up to its
// central directory, calling fn for each; fn may read the entry (readAll)
// or open it as a nested archive (openNested) and read that. It returns
// how many entries it read, and why the archive could not be read to its
// central directory ("" when it was).
func (z *zipStream) entries(depth int, fn func(e *zipEntry)) (count int, problem string) {
	br := z.levels[depth].br
	for ; ; count++ {
		if z.overBudget {
			return count, ""
		}
		sig, err := br.Peek(4)
		if err != nil {
			if count == 0 {
				return count, "not a zip archive"
			}
			return count, fmt.Sprintf("archive ends after %d entries, before its central directory", count)
		}
		switch string(sig) {
		case zipLocalSig:
		case zipCentralSig, zipEndSig, zip64EndSig, zip64LocatorSig:
			return count, ""
		default:
			if count == 0 {
				return count, "not a zip archive"
			}
			return count, fmt.Sprintf("archive is malformed after %d entries", count)
		}
		e, problem := z.header(depth, br)
		if problem != "" {
			return count, problem
		}
		fn(e)
		if problem := z.finish(e, br); problem != "" {
			if z.overBudget {
				return count + 1, ""
			}
			return count + 1, fmt.Sprintf("entry %s: %s", e.name, problem)
		}
	}
}

// header reads a local file header.
func (z *zipStream) header(depth int, br *bufio.Reader) (*zipEntry, string) {
	var h [zipHeaderLen]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, "archive ends inside an entry header"
	}
	le := binary.LittleEndian
	e := &zipEntry{
		z:      z,
		depth:  depth,
		flags:  le.Uint16(h[6:]),
		method: le.Uint16(h[8:]),
		csize:  uint64(le.Uint32(h[18:])),
		usize:  uint64(le.Uint32(h[22:])),
	}
	e.descriptor = e.flags&8 != 0
	nameLen, extraLen := int(le.Uint16(h[26:])), int(le.Uint16(h[28:]))
	if cap(z.name) < nameLen+extraLen {
		z.name = make([]byte, nameLen+extraLen)
	}
	z.name = z.name[:nameLen+extraLen]
	if _, err := io.ReadFull(br, z.name); err != nil {
		return nil, "archive ends inside an entry header"
	}
	e.name = string(z.name[:nameLen])
	if e.csize == 0xFFFFFFFF || e.usize == 0xFFFFFFFF {
		e.usize, e.csize = zip64Sizes(z.name[nameLen:], e.usize, e.csize)
	}
	if e.sizeKnown() {
		e.raw = &io.LimitedReader{R: br, N: int64(min(e.csize, 1<<62))}
	}
	return e, ""
}

// zip64Sizes reads the sizes the ZIP64 extra field holds for those the
// header marks 0xFFFFFFFF.
func zip64Sizes(extra []byte, usize, csize uint64) (uint64, uint64) {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		tag, size := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if size > len(extra)-4 {
			break
		}
		field := extra[4 : 4+size]
		extra = extra[4+size:]
		if tag != 1 {
			continue
		}
		if usize == 0xFFFFFFFF && len(field) >= 8 {
			usize, field = le.Uint64(field), field[8:]
		}
		if csize == 0xFFFFFFFF && len(field) >= 8 {
			csize = le.Uint64(field)
		}
		break
	}
	return usize, csize
}

// finish moves past the rest of an entry's data and its data descriptor.
func (z *zipStream) finish(e *zipEntry, br *bufio.Reader) string {
	var csize uint64
	switch {
	case e.raw != nil:
		if err := discard(br, e.raw.N); err != nil {
			return "archive ends inside the entry"
		}
		csize = e.csize
	case e.method == zipDeflate:
		r, problem := e.open()
		if problem != "" {
			return problem
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			if err == errOverBudget {
				return err.Error()
			}
			return fmt.Sprintf("malformed compressed data: %v", err)
		}
		csize = e.counted.n
	default:
		// No size: find the descriptor after the data.
		if !skipUnsizedData(br) {
			return "entry without its size, and no data descriptor follows it"
		}
		return ""
	}
	if e.descriptor && !skipDescriptor(br, csize) {
		return "no data descriptor after the data"
	}
	return ""
}

// discard skips n bytes of br.
func discard(br *bufio.Reader, n int64) error {
	for n > 0 {
		k, err := br.Discard(int(min(n, 1<<30)))
		n -= int64(k)
		if err != nil {
			return err
		}
	}
	return nil
}

// skipDescriptor skips a data descriptor: an optional signature, the
// CRC-32, and the compressed and uncompressed sizes in 4 bytes each (8 in
// ZIP64 archives). The compressed size must be csize; of the two widths,
// the one followed by another record's signature is taken.
func skipDescriptor(br *bufio.Reader, csize uint64) bool {
	b, _ := br.Peek(4 + 4 + 16 + 4)
	off := 0
	if bytes.HasPrefix(b, []byte(zipDescriptorSig)) {
		off = 4
	}
	le := binary.LittleEndian
	fits32 := len(b) >= off+12 && uint64(le.Uint32(b[off+4:])) == csize&0xFFFFFFFF
	fits64 := len(b) >= off+20 && le.Uint64(b[off+4:]) == csize
	next := func(n int) bool {
		return len(b) < n+2 || string(b[n:n+2]) == "PK"
	}
	switch {
	case fits32 && next(off+12):
		br.Discard(off + 12)
	case fits64 && next(off+20):
		br.Discard(off + 20)
	case fits32:
		br.Discard(off + 12)
	default:
		return false
	}
	return true
}

// skipUnsizedData skips the data of an entry whose size only the data
// descriptor after it gives: it ends at the first descriptor signature
// followed by a compressed size equal to the bytes before it.
func skipUnsizedData(br *bufio.Reader) bool {
	const tail = 4 + 4 + 16 // signature, CRC-32, two 8-byte sizes
	le := binary.LittleEndian
	var n uint64 // bytes of data skipped
	for {
		b, err := br.Peek(zipBufSize)
		end := len(b) - tail
		if err != nil {
			end = len(b) - (4 + 4 + 8) + 1
		}
		if end <= 0 {
			return false
		}
		k := bytes.Index(b[:end], []byte(zipDescriptorSig))
		if k < 0 {
			br.Discard(end)
			n += uint64(end)
			continue
		}
		d := n + uint64(k)
		if uint64(le.Uint32(b[k+8:])) == d&0xFFFFFFFF {
			br.Discard(k + 16)
			return true
		}
		if len(b) >= k+tail && le.Uint64(b[k+8:]) == d {
			br.Discard(k + tail)
			return true
		}
		br.Discard(k + 1)
		n += uint64(k + 1)
	}
}

// countingReader reads a deflated entry of unknown size byte by byte, as
// flate does from an io.ByteReader (so it reads no further than the
// compressed data), and counts the bytes.
type countingReader struct {
	br *bufio.Reader
	n  uint64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.n += uint64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// budgetReader counts inflated bytes against the stream's budget.
type budgetReader struct {
	r io.Reader
	z *zipStream
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.z.budget <= 0 {
		b.z.overBudget = true
		return 0, errOverBudget
	}
	if int64(len(p)) > b.z.budget {
		p = p[:b.z.budget]
	}
	n, err := b.r.Read(p)
	b.z.budget -= int64(n)
	if err == io.ErrUnexpectedEOF || (err != nil && err != io.EOF && !errors.Is(err, errOverBudget)) {
		return n, fmt.Errorf("inflating: %w", err)
	}
	return n, err
}
