package layers

import (
	"strconv"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// Default budgets, used where an Options field is zero or negative.
const (
	// DefaultMaxCompressedBytes bounds the layer bytes read from the
	// registry for one image: 2 GiB.
	DefaultMaxCompressedBytes int64 = 2 << 30
	// DefaultMaxUncompressedBytes bounds the tar bytes decompressed for one
	// image: 16 GiB, above the largest real images (CUDA and ML images
	// reach 10–15 GiB) and far below what a compression bomb produces.
	DefaultMaxUncompressedBytes int64 = 16 << 30
	// DefaultMaxFileBytes is the Limits.MaxFileBytes handed to catalogers:
	// 64 MiB.
	DefaultMaxFileBytes int64 = 64 << 20
)

// Options configures a scan.
type Options struct {
	// Catalogers are offered every regular file of every layer, in this
	// order.
	Catalogers []filecat.Cataloger
	// MaxCompressedBytes bounds the compressed layer bytes read for one
	// image (layers found in Cache cost nothing). Default
	// DefaultMaxCompressedBytes.
	MaxCompressedBytes int64
	// MaxUncompressedBytes bounds the decompressed tar bytes read for one
	// image; it is what stops a compression bomb. Default
	// DefaultMaxUncompressedBytes.
	MaxUncompressedBytes int64
	// Limits is handed to every Cataloger.Read. A zero MaxFileBytes
	// defaults to DefaultMaxFileBytes. It also bounds the copy made when
	// several catalogers want the same file.
	Limits filecat.Limits
	// Cache, when set, holds layer summaries by layer digest, so that a
	// layer shared by many images (a base image) is read once. Summaries
	// depend on Catalogers and Limits: a summary made with other
	// catalogers is a miss.
	Cache Cache
}

// withDefaults returns o with zero budgets replaced by the defaults.
func (o Options) withDefaults() Options {
	if o.MaxCompressedBytes <= 0 {
		o.MaxCompressedBytes = DefaultMaxCompressedBytes
	}
	if o.MaxUncompressedBytes <= 0 {
		o.MaxUncompressedBytes = DefaultMaxUncompressedBytes
	}
	if o.Limits.MaxFileBytes <= 0 {
		o.Limits.MaxFileBytes = DefaultMaxFileBytes
	}
	return o
}

// summaryKey identifies what a layer summary depends on besides the layer:
// the catalogers, in order, and the limits they were given.
func (o Options) summaryKey() string {
	var b strings.Builder
	for _, c := range o.Catalogers {
		b.WriteString(c.Name())
		b.WriteByte(0)
	}
	b.WriteString(strconv.FormatInt(o.Limits.MaxFileBytes, 10))
	return b.String()
}
