package corpus

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is the modification time of the files the corpus writes itself,
// so that the same artifacts give the same layer digests.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// tarLayer writes one layer's tar in memory, in the layout image builders
// use: relative paths ("usr/local/bin/app"), each parent directory written
// once before its first entry.
type tarLayer struct {
	buf  bytes.Buffer
	tw   *tar.Writer
	dirs map[string]bool
	err  error
}

func newTarLayer() *tarLayer {
	l := &tarLayer{dirs: map[string]bool{}}
	l.tw = tar.NewWriter(&l.buf)
	return l
}

// clean turns "/usr/bin/x" or "./usr/bin/x" into "usr/bin/x".
func clean(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

func (l *tarLayer) header(h *tar.Header) {
	if l.err != nil {
		return
	}
	l.err = l.tw.WriteHeader(h)
}

// parents writes the missing parent directories of p.
func (l *tarLayer) parents(p string) {
	dir := path.Dir(p)
	if dir == "." || dir == "/" || l.dirs[dir] {
		return
	}
	l.parents(dir)
	l.dirs[dir] = true
	l.header(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

// dir writes directory p (and its parents).
func (l *tarLayer) dir(p string) {
	p = clean(p)
	if l.dirs[p] {
		return
	}
	l.parents(p)
	l.dirs[p] = true
	l.header(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

// file writes a regular file.
func (l *tarLayer) file(p string, mode int64, data []byte) {
	p = clean(p)
	l.parents(p)
	l.header(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX})
	if l.err == nil {
		_, l.err = l.tw.Write(data)
	}
}

// symlink writes p pointing at target.
func (l *tarLayer) symlink(p, target string) {
	p = clean(p)
	l.parents(p)
	l.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: p, Linkname: target, Mode: 0o777, ModTime: epoch, Format: tar.FormatPAX})
}

// whiteout deletes p of the lower layers (an empty file .wh.<name>).
func (l *tarLayer) whiteout(p string) {
	p = clean(p)
	l.file(path.Join(path.Dir(p), ".wh."+path.Base(p)), 0o644, nil)
}

// opaque hides everything the lower layers have in directory p: the
// marker .wh..wh..opq; entries of this layer in p stay.
func (l *tarLayer) opaque(p string) {
	p = clean(p)
	l.dir(p)
	l.file(path.Join(p, ".wh..wh..opq"), 0o644, nil)
}

// copyTar copies the entries of the tar r, dropping the first strip path
// elements of each name (npm tarballs root everything at "package/") and
// putting the rest under dest. keep, when not nil, selects entries by
// their name after the strip.
func (l *tarLayer) copyTar(r io.Reader, strip int, dest string, keep func(name string) bool) {
	tr := tar.NewReader(r)
	for l.err == nil {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			l.err = err
			return
		}
		name := clean(h.Name)
		for i := 0; i < strip && name != ""; i++ {
			if j := strings.IndexByte(name, '/'); j >= 0 {
				name = name[j+1:]
			} else {
				name = ""
			}
		}
		if name == "" || name == "." || (keep != nil && !keep(name)) {
			continue
		}
		name = clean(path.Join(dest, name))
		if h.Typeflag == tar.TypeDir {
			l.dir(name)
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeSymlink, tar.TypeLink:
		default:
			continue
		}
		l.parents(name)
		hdr := &tar.Header{
			Typeflag: h.Typeflag, Name: name, Linkname: h.Linkname, Size: h.Size,
			Mode: h.Mode & 0o7777, ModTime: h.ModTime, Format: tar.FormatPAX,
		}
		if h.Typeflag == tar.TypeLink {
			hdr.Linkname = clean(path.Join(dest, strings.Join(strings.Split(clean(h.Linkname), "/")[strip:], "/")))
		}
		if hdr.Mode&0o400 == 0 {
			hdr.Mode |= 0o644 // some npm tarballs carry mode 0
		}
		if h.Typeflag != tar.TypeReg {
			hdr.Size = 0
		}
		l.header(hdr)
		if h.Typeflag == tar.TypeReg && l.err == nil {
			_, l.err = io.Copy(l.tw, tr)
		}
	}
}

// bytes closes the tar and returns it.
func (l *tarLayer) bytes() ([]byte, error) {
	if l.err == nil {
		l.err = l.tw.Close()
	}
	if l.err != nil {
		return nil, l.err
	}
	return l.buf.Bytes(), nil
}

// codec is a layer blob's compression.
type codec int

const (
	gzipped codec = iota
	zstdCompressed
)

// layer turns the tar into a layer: gzip (compressed once here, as a
// docker or OCI gzip layer, by mediaType) or zstd (OCI only; go-
// containerregistry compresses it).
func (l *tarLayer) layer(c codec, mediaType types.MediaType) (v1.Layer, error) {
	raw, err := l.bytes()
	if err != nil {
		return nil, err
	}
	switch c {
	case zstdCompressed:
		return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(raw)), nil
		}, tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	case gzipped:
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
		if _, err := zw.Write(raw); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		blob := gz.Bytes()
		return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(blob)), nil
		}, tarball.WithMediaType(mediaType))
	}
	return nil, fmt.Errorf("unknown compression %d", c)
}
