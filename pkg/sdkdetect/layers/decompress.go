package layers

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// The decompressors are klauspost/compress's (already linked through
// go-containerregistry): its zstd decoder is the one ggcr uses, and its
// gzip reader decodes faster than compress/gzip (see BenchmarkFloor).

// maxZstdWindow bounds the memory a zstd frame may ask for. Every zstd
// level up to 19 uses at most 8 MiB; --ultra and --long frames above 64 MiB
// are refused (the layer becomes a GapCorrupt) rather than allocated.
const maxZstdWindow = 64 << 20

// readBufSize is the buffer between the registry stream and the
// decompressor.
const readBufSize = 64 << 10

// mediaKind is what a layer's media type says about its content.
type mediaKind int

const (
	// mediaTar: a filesystem layer; its compression is told by its magic
	// bytes, whatever the media type says (registries and old tools
	// mislabel gzip layers as uncompressed and the reverse).
	mediaTar mediaKind = iota
	// mediaEncrypted: an ocicrypt layer; it cannot be read.
	mediaEncrypted
	// mediaOther: not a filesystem layer (artifact, attestation, chart).
	mediaOther
)

// classifyMediaType says whether a layer of media type mt holds a tar.
func classifyMediaType(mt types.MediaType) mediaKind {
	switch mt {
	case types.OCIUncompressedLayer, types.OCILayer, types.OCILayerZStd,
		types.OCIUncompressedRestrictedLayer, types.OCIRestrictedLayer,
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		types.DockerLayer, types.DockerUncompressedLayer, types.DockerForeignLayer,
		// Generic types: the magic bytes decide.
		"", "application/octet-stream", "application/x-tar", "application/tar",
		"application/gzip", "application/x-gzip", "application/tar+gzip",
		"application/zstd", "application/tar+zstd":
		return mediaTar
	}
	if strings.HasSuffix(string(mt), "+encrypted") {
		return mediaEncrypted
	}
	return mediaOther
}

// compression is a layer's compression, told by its first bytes.
type compression int

const (
	compressionNone compression = iota
	compressionGzip
	compressionZstd
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// sniff tells the compression of a stream from its first bytes.
func sniff(head []byte) compression {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return compressionGzip
	case bytes.HasPrefix(head, zstdMagic):
		return compressionZstd
	}
	return compressionNone
}

var (
	bufioPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}
	gzipPool  sync.Pool // *gzip.Reader
	zstdPool  sync.Pool // *zstd.Decoder
)

// decompressor turns a compressed stream into the layer's tar stream and
// returns its pooled parts afterwards.
type decompressor struct {
	br  *bufio.Reader
	gz  *gzip.Reader
	zd  *zstd.Decoder
	out io.Reader
}

// open sniffs src's compression and returns the tar stream. An error is a
// malformed header (GapCorrupt) or src's own error.
func (d *decompressor) open(src io.Reader) (io.Reader, error) {
	d.br = bufioPool.Get().(*bufio.Reader)
	d.br.Reset(src)
	head, err := d.br.Peek(len(zstdMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch sniff(head) {
	case compressionGzip:
		if v := gzipPool.Get(); v != nil {
			d.gz = v.(*gzip.Reader)
			err = d.gz.Reset(d.br)
		} else {
			d.gz, err = gzip.NewReader(d.br)
		}
		if err != nil {
			return nil, err
		}
		d.out = d.gz
	case compressionZstd:
		if v := zstdPool.Get(); v != nil {
			d.zd = v.(*zstd.Decoder)
			err = d.zd.Reset(d.br)
		} else {
			d.zd, err = zstd.NewReader(d.br,
				zstd.WithDecoderConcurrency(1), // decode in this goroutine
				zstd.WithDecoderMaxWindow(maxZstdWindow),
			)
		}
		if err != nil {
			return nil, err
		}
		d.out = d.zd
	default:
		d.out = d.br
	}
	return d.out, nil
}

// release returns the pooled parts; d must not be used afterwards.
func (d *decompressor) release() {
	if d.gz != nil {
		gzipPool.Put(d.gz)
	}
	if d.zd != nil {
		if d.zd.Reset(nil) == nil {
			zstdPool.Put(d.zd)
		}
	}
	if d.br != nil {
		d.br.Reset(nil)
		bufioPool.Put(d.br)
	}
	*d = decompressor{}
}
