package layers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// maxRecordedBytes bounds what one layer's summary may hold (paths of
// whiteouts, hard links and files with findings, 8 bytes per entry for
// written): a real layer needs a few MiB at most, a hostile tar of
// millions of long whiteout names would need gigabytes.
const maxRecordedBytes = 64 << 20

// errImplausible stops a layer whose summary would pass maxRecordedBytes.
var errImplausible = errors.New("the layer records more than " + formatBytes(maxRecordedBytes) +
	" of paths (whiteouts, links, files): not a plausible image layer")

// Whiteout names (OCI image-spec, layer.md).
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// layerScanner reads the layers of one scan, one at a time; its buffers
// are reused from entry to entry and from layer to layer.
type layerScanner struct {
	opts Options
	b    *budget

	pathBuf, linkBuf []byte
	head             [filecat.HeadSize]byte
	wanted           []filecat.Cataloger
	written, sortTmp []uint64
	copyBuf          []byte
	entry            entryReader
	tr               tarReader
	ts               tarStream

	// The layer being read.
	cur *LayerSummary
	// dirs counts, for each directory, the files with findings under it
	// in cur, so that a non-directory replacing that directory later in
	// the same tar drops them without a walk over cur.files.
	dirs     map[string]int
	recorded int64
}

// scanners keeps layerScanners, and their buffers, from scan to scan.
var scanners = sync.Pool{New: func() any {
	return &layerScanner{
		pathBuf: make([]byte, 0, 256),
		linkBuf: make([]byte, 0, 256),
		dirs:    map[string]int{},
	}
}}

// maxPooledEntries bounds the hash buffers a pooled layerScanner keeps.
const maxPooledEntries = 1 << 20

func getLayerScanner(o Options, b *budget) *layerScanner {
	ls := scanners.Get().(*layerScanner)
	ls.opts, ls.b = o, b
	return ls
}

func (ls *layerScanner) release() {
	ls.opts, ls.b, ls.cur, ls.wanted = Options{}, nil, nil, ls.wanted[:0]
	if cap(ls.written) > maxPooledEntries || cap(ls.sortTmp) > maxPooledEntries {
		ls.written, ls.sortTmp = nil, nil
	}
	if cap(ls.copyBuf) > 1<<20 {
		ls.copyBuf = nil
	}
	ls.ts.reset(nil)
	clear(ls.dirs)
	scanners.Put(ls)
}

// read reads layer l to its end and summarises it. On error the summary
// holds what was read before it.
func (ls *layerScanner) read(ctx context.Context, l v1.Layer) (*LayerSummary, error) {
	s := &LayerSummary{}
	ls.cur, ls.written, ls.recorded = s, ls.written[:0], 0
	clear(ls.dirs)
	err := ls.readTar(ctx, l)
	ls.finish(s)
	ls.cur = nil
	return s, err
}

func (ls *layerScanner) readTar(ctx context.Context, l v1.Layer) error {
	src, closeSrc, err := openLayer(ctx, l)
	if err != nil {
		return err
	}
	defer closeSrc()
	var d decompressor
	defer d.release()
	out, err := d.open(&compressedReader{r: src, b: ls.b})
	if err != nil {
		return err
	}
	ls.tr = tarReader{r: out, b: ls.b}
	br := bufioPool.Get().(*bufio.Reader)
	br.Reset(&ls.tr)
	defer func() {
		br.Reset(nil)
		bufioPool.Put(br)
	}()
	ts := &ls.ts
	ts.reset(br)
	for {
		// Poll the context between entries: a tar of empty files reads
		// little per entry.
		if s := ls.b.stopped(); s != nil {
			return s
		}
		hdr, err := ts.next()
		if err == io.EOF {
			// Read past the tar's end to the stream's, so that the gzip
			// checksum and the source's digest check run.
			if _, err := io.Copy(io.Discard, br); err != nil {
				return err
			}
			return ls.tr.ended()
		}
		if err != nil {
			return err
		}
		if err := ls.add(hdr); err != nil {
			return err
		}
		if ls.recorded+8*int64(len(ls.written)) > maxRecordedBytes {
			return errImplausible
		}
	}
}

// add records one tar entry.
func (ls *layerScanner) add(hdr *tarHeader) error {
	p := appendCleanPath(ls.pathBuf[:0], hdr.name)
	ls.pathBuf = p
	if len(p) == 1 {
		return nil // the root directory
	}
	if i := bytes.LastIndexByte(p, '/'); bytes.HasPrefix(p[i+1:], []byte(whiteoutPrefix)) {
		dir, base := parentDir(string(p)) // whiteouts are few: allocate here
		return ls.whiteout(dir, base)
	}
	switch hdr.typ {
	case '5', 'D': // directory, GNU dump directory
		ls.write(p, true)
	case '0', '7', 'S': // regular, contiguous, GNU sparse
		ls.write(p, false)
		ls.cur.regularFiles++
		return ls.offer(hdr, p)
	case '1':
		ls.write(p, false)
		return ls.hardLink(p, hdr.link)
	case '2', '3', '4', '6':
		// Symlinks, devices, FIFOs: recorded as written, never followed:
		// a symlink's target is not read, inside the image or outside.
		ls.write(p, false)
	}
	// Other types (PAX global headers, GNU volume headers) are no files.
	return nil
}

// whiteout records a whiteout entry DIR/.wh.NAME or DIR/.wh..wh..opq.
func (ls *layerScanner) whiteout(dir, base string) error {
	switch {
	case base == whiteoutOpaque:
		d := strings.Clone(dir)
		ls.cur.opaque = append(ls.cur.opaque, d)
		return ls.record(len(d))
	case strings.HasPrefix(base, whiteoutMeta):
		return nil // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs)
	}
	name := base[len(whiteoutPrefix):]
	if name == "" || name == "." || name == ".." {
		return nil
	}
	var w string
	if dir == "/" {
		w = "/" + name
	} else {
		w = dir + "/" + name
	}
	ls.cur.whiteouts = append(ls.cur.whiteouts, w)
	return ls.record(len(w))
}

// write records that the layer writes path p, replacing what an earlier
// entry of the same tar put there.
func (ls *layerScanner) write(p []byte, dir bool) {
	ls.written = append(ls.written, pathHash(p, dir))
	if len(ls.cur.files) == 0 {
		return
	}
	if _, ok := ls.cur.files[string(p)]; ok {
		ls.drop(string(p))
	}
	if !dir && ls.dirs[string(p)] > 0 {
		prefix := string(p)
		for f := range ls.cur.files {
			if under(f, prefix) {
				ls.drop(f)
			}
		}
	}
}

// keep records the findings of the file at path.
func (ls *layerScanner) keep(path string, r fileResult) error {
	if ls.cur.files == nil {
		ls.cur.files = map[string]fileResult{}
	}
	ls.cur.files[path] = r
	for d, _ := parentDir(path); d != "/"; d, _ = parentDir(d) {
		ls.dirs[d]++
	}
	n := len(path)
	for _, f := range r.found {
		n += len(f.File) + len(f.Package.Name) + len(f.Package.Version) + 64
	}
	for _, nt := range r.notes {
		n += len(nt.File) + len(nt.Reason)
	}
	return ls.record(n)
}

func (ls *layerScanner) drop(path string) {
	delete(ls.cur.files, path)
	for d, _ := parentDir(path); d != "/"; d, _ = parentDir(d) {
		if ls.dirs[d]--; ls.dirs[d] <= 0 {
			delete(ls.dirs, d)
		}
	}
}

// hardLink records the hard link at p. A link to a file of the same layer
// that has findings takes them now; any other link is kept for the merge,
// which resolves it against lower layers.
func (ls *layerScanner) hardLink(p, linkname []byte) error {
	target := appendCleanPath(ls.linkBuf[:0], linkname)
	ls.linkBuf = target
	if r, ok := ls.cur.files[string(target)]; ok {
		t := string(target)
		path := string(p)
		return ls.keep(path, relink(r, t, path))
	}
	l := hardLink{path: string(p), target: string(target)}
	ls.cur.hardLinks = append(ls.cur.hardLinks, l)
	return ls.record(len(l.path) + len(l.target))
}

// record counts n bytes the summary will hold against maxRecordedBytes.
func (ls *layerScanner) record(n int) error {
	ls.recorded += int64(n)
	if ls.recorded+8*int64(len(ls.written)) > maxRecordedBytes {
		return errImplausible
	}
	return nil
}

// finish completes the summary of the layer read.
func (ls *layerScanner) finish(s *LayerSummary) {
	sorted, tmp := radixSort(ls.written, ls.sortTmp)
	s.written = slices.Clip(slices.Clone(slices.Compact(sorted)))
	ls.written, ls.sortTmp = sorted[:0], tmp[:0]
	// A hard link to a file this layer wrote itself (without findings)
	// has nothing to take from lower layers.
	links := s.hardLinks[:0]
	for _, l := range s.hardLinks {
		if !s.writes(l.target) {
			links = append(links, l)
		}
	}
	clear(s.hardLinks[len(links):])
	s.hardLinks = slices.Clip(links)
	s.size = s.sizeOf()
}
