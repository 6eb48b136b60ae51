package layers

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"unsafe"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// offer offers the regular file of hdr, at clean path p, to every
// cataloger, and lets those that want it read it from the tar stream.
//
// One cataloger reads the stream itself, whatever the file's size: the
// filecat contract makes every Read bound what it buffers (Limits), and the
// bytes must be decompressed anyway to reach the next entry, so offering a
// file beyond Limits.MaxFileBytes costs nothing more than skipping it; the
// cataloger notes what it cannot read. When several catalogers want one
// file, it is copied once into memory (up to MaxFileBytes) and each reads
// the copy; beyond MaxFileBytes only the first reads it and the others get
// a Note.
func (ls *layerScanner) offer(hdr *tarHeader, p []byte) error {
	ts := &ls.ts
	var head []byte
	if !hdr.sparse {
		b, err := ts.br.Peek(int(min(hdr.size, int64(len(ls.head)))))
		if err != nil {
			return unexpected(err)
		}
		head = ls.head[:copy(ls.head[:], b)]
	}
	// Wants sees the path in the scanner's buffer, not a copy: asking
	// about 100,000 files must not cost 100,000 strings (a tenth of a
	// scan's time went there). Wants must not allocate, so it cannot keep
	// the path; Read gets a copy of its own.
	f := filecat.File{Path: unsafe.String(unsafe.SliceData(p), len(p)), Size: hdr.size, Mode: fileMode(hdr.mode), Head: head}
	ls.wanted = ls.wanted[:0]
	for _, c := range ls.opts.Catalogers {
		if c.Wants(f) {
			ls.wanted = append(ls.wanted, c)
		}
	}
	if len(ls.wanted) == 0 {
		return nil // tarStream.next skips the rest of the file
	}
	f.Path = string(p)
	var res fileResult
	switch {
	case hdr.sparse:
		// No image builder writes sparse tar entries (they all use Go's
		// or Java's tar writers); GNU tar -S does. Not expanded here.
		res.notes = append(res.notes, filecat.Note{File: f.Path, Reason: "stored as a sparse tar entry, which is not read"})
	case len(ls.wanted) == 1 || f.Size > ls.opts.Limits.MaxFileBytes:
		ls.entry = entryReader{r: ts}
		ls.call(&res, ls.wanted[0], f, &ls.entry)
		if err := ls.streamErr(); err != nil {
			return err
		}
		for _, c := range ls.wanted[1:] {
			res.notes = append(res.notes, filecat.Note{File: f.Path, Reason: fmt.Sprintf(
				"not read by %s: %s read it, and at %s it is over the %s that may be copied for a second reader",
				c.Name(), ls.wanted[0].Name(), formatBytes(f.Size), formatBytes(ls.opts.Limits.MaxFileBytes))})
		}
	default:
		if int64(cap(ls.copyBuf)) < f.Size {
			ls.copyBuf = make([]byte, f.Size)
		}
		buf := ls.copyBuf[:f.Size]
		if _, err := io.ReadFull(ts, buf); err != nil {
			return err
		}
		var r bytes.Reader
		for _, c := range ls.wanted {
			r.Reset(buf)
			ls.call(&res, c, f, &r)
		}
	}
	ls.entry = entryReader{}
	if len(res.found) == 0 && len(res.notes) == 0 {
		return nil
	}
	return ls.keep(f.Path, res)
}

// call runs one cataloger's Read and adds its result to res. A Read error
// that is not the stream's own and a panic become Notes: a cataloger's
// failure on one file does not stop the scan.
func (ls *layerScanner) call(res *fileResult, c filecat.Cataloger, f filecat.File, r io.Reader) {
	defer func() {
		if v := recover(); v != nil {
			res.notes = append(res.notes, filecat.Note{File: f.Path, Reason: fmt.Sprintf("cataloger %s failed: %v", c.Name(), v)})
		}
	}()
	out, err := c.Read(f, r, ls.opts.Limits)
	res.found = append(res.found, out.Found...)
	res.notes = append(res.notes, out.Notes...)
	if err != nil && ls.streamErr() == nil {
		res.notes = append(res.notes, filecat.Note{File: f.Path, Reason: fmt.Sprintf("cataloger %s failed: %v", c.Name(), err)})
	}
}

// streamErr is the failure of the layer stream a cataloger met while
// reading, if any: then the layer stops, whatever the cataloger returned.
func (ls *layerScanner) streamErr() error {
	if s := ls.b.stopped(); s != nil {
		return s
	}
	return ls.entry.err
}

// entryReader reads a file's content for a cataloger, keeping the
// stream's failure for the layer reader.
type entryReader struct {
	r   io.Reader
	err error // the first failure of r other than io.EOF
}

func (e *entryReader) Read(p []byte) (int, error) {
	if e.r == nil {
		return 0, io.EOF
	}
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// fileMode converts a tar header's mode to the permission and special bits
// of an fs.FileMode.
func fileMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
