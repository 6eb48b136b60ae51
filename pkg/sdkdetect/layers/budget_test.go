package layers

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// bomb is a layer whose tar holds one file of size bytes of zeros, made of
// one small compressed chunk repeated (gzip members or zstd frames), so it
// costs little to build and decompresses to far more than its size.
func bomb(t *testing.T, zstd bool, size int64) []byte {
	t.Helper()
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: size, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	tw.Flush()
	compress := gzipOf
	if zstd {
		compress = zstdOf
	}
	const chunk = 4 << 20
	zeros := compress(t, make([]byte, chunk))
	out := compress(t, hdr.Bytes())
	for range size / chunk {
		out = append(out, zeros...)
	}
	return out
}

func TestCompressionBombIsBounded(t *testing.T) {
	for _, z := range []bool{false, true} {
		name := "gzip"
		if z {
			name = "zstd"
		}
		t.Run(name, func(t *testing.T) {
			const budget = 64 << 20
			data := bomb(t, z, 4<<30) // 4 GiB of zeros
			if len(data) > 8<<20 {
				t.Fatalf("the bomb is %d bytes, want a small one", len(data))
			}
			l := staticLayer(data, types.OCILayer)
			r, err := ScanLayers(context.Background(), []v1.Layer{l}, Options{
				Catalogers:           catalogers(npmCat{}),
				MaxUncompressedBytes: budget,
			})
			if err != nil {
				t.Fatal(err)
			}
			if r.Complete || len(r.Gaps) != 1 || r.Gaps[0].Kind != GapUncompressedBudget {
				t.Fatalf("Complete %v, gaps %+v; want one uncompressed-budget gap", r.Complete, r.Gaps)
			}
			if r.UncompressedBytes != budget {
				t.Errorf("UncompressedBytes %d, want the budget %d", r.UncompressedBytes, budget)
			}
			if want := "stopped after 64 MiB of decompressed layer data, the budget (read 0 of 1 layers), in layer 1 of 1"; !strings.HasPrefix(r.Reason, want) {
				t.Errorf("reason %q, want it to start %q", r.Reason, want)
			}
		})
	}
}

// sizeless hides a layer's size, as a streamed layer does.
type sizeless struct{ v1.Layer }

func (sizeless) Size() (int64, error) { return 0, errors.New("size unknown") }

func TestCompressedBudget(t *testing.T) {
	big := bytes.Repeat([]byte("incompressible? no, but gzip -1 keeps some. "), 4000)
	first := gzipLayer(t, file("a/package.json", "a 1"))
	second := gzipLayer(t, file("b/blob", string(big)), file("b/package.json", "b 1"))
	firstSize, _ := first.Size()

	t.Run("a layer that would pass the budget is not started", func(t *testing.T) {
		second := &countingLayer{Layer: second}
		r, _ := ScanLayers(context.Background(), []v1.Layer{first, second}, Options{
			Catalogers:         catalogers(npmCat{}),
			MaxCompressedBytes: firstSize + 100,
		})
		if r.Complete || len(r.Gaps) != 1 || r.Gaps[0].Kind != GapCompressedBudget {
			t.Fatalf("gaps %+v", r.Gaps)
		}
		if second.opened.Load() != 0 {
			t.Errorf("the second layer was opened %d times, want 0", second.opened.Load())
		}
		if !strings.HasPrefix(r.Reason, "stopped after ") || !strings.Contains(r.Reason, "(read 1 of 2 layers): layer 2 of 2 (sha256:") ||
			!strings.Contains(r.Reason, "would pass the ") {
			t.Errorf("reason %q", r.Reason)
		}
		if got := found(r); !slices.Equal(got, []string{"/a/package.json a@1"}) || r.LayersRead != 1 {
			t.Errorf("found %q, LayersRead %d; want the first layer's finding", got, r.LayersRead)
		}
	})
	t.Run("a layer of unknown size is cut", func(t *testing.T) {
		const budget = 1 << 10
		r, _ := ScanLayers(context.Background(), []v1.Layer{sizeless{first}, sizeless{second}}, Options{
			Catalogers:         catalogers(npmCat{}),
			MaxCompressedBytes: firstSize + budget,
		})
		if r.Complete || len(r.Gaps) != 1 || r.Gaps[0].Kind != GapCompressedBudget {
			t.Fatalf("gaps %+v", r.Gaps)
		}
		if r.CompressedBytes != firstSize+budget {
			t.Errorf("CompressedBytes %d, want %d", r.CompressedBytes, firstSize+budget)
		}
		want := "stopped after " + formatBytes(firstSize+budget) + " of compressed layers, the budget (read 1 of 2 layers), in layer 2 of 2"
		if !strings.HasPrefix(r.Reason, want) {
			t.Errorf("reason %q, want it to start %q", r.Reason, want)
		}
	})
	t.Run("exactly the budget is complete", func(t *testing.T) {
		r, _ := ScanLayers(context.Background(), []v1.Layer{sizeless{first}}, Options{
			Catalogers:         catalogers(npmCat{}),
			MaxCompressedBytes: firstSize,
		})
		if !r.Complete {
			t.Errorf("incomplete: %s", r.Reason)
		}
	})
}

// stepCtx is a context whose deadline passes when a test says so, without
// a clock.
type stepCtx struct {
	context.Context
	once sync.Once
	done chan struct{}
}

func newStepCtx() *stepCtx { return &stepCtx{Context: context.Background(), done: make(chan struct{})} }

func (c *stepCtx) Done() <-chan struct{} { return c.done }
func (c *stepCtx) expire()               { c.once.Do(func() { close(c.done) }) }
func (c *stepCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// expiring is a cataloger that ends the context's deadline when it reads a
// file named "expire".
type expiring struct{ ctx *stepCtx }

func (expiring) Name() string              { return "expiring" }
func (expiring) Wants(f filecat.File) bool { return strings.HasSuffix(f.Path, "/expire") }
func (e expiring) Read(filecat.File, io.Reader, filecat.Limits) (filecat.Result, error) {
	e.ctx.expire()
	return filecat.Result{}, nil
}

func TestDeadline(t *testing.T) {
	layers := []v1.Layer{
		gzipLayer(t, file("a/package.json", "a 1")),
		gzipLayer(t, file("b/package.json", "b 1"), file("b/expire", ""), file("b/after/package.json", "after 1")),
		gzipLayer(t, file("c/package.json", "c 1")),
	}
	ctx := newStepCtx()
	r, err := ScanLayers(ctx, layers, Options{Catalogers: catalogers(npmCat{}, expiring{ctx})})
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || len(r.Gaps) != 1 || r.Gaps[0].Kind != GapDeadline {
		t.Fatalf("gaps %+v", r.Gaps)
	}
	if want := "stopped at the deadline after reading 1 of 3 layers, in layer 2 of 3 (sha256:"; !strings.HasPrefix(r.Reason, want) {
		t.Errorf("reason %q, want it to start %q", r.Reason, want)
	}
	// What was read before the deadline is kept; nothing after it.
	if got, want := found(r), []string{"/a/package.json a@1", "/b/package.json b@1"}; !slices.Equal(got, want) {
		t.Errorf("found %q, want %q", got, want)
	}

	t.Run("already past", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
		defer cancel()
		r, _ := ScanLayers(ctx, layers, Options{Catalogers: catalogers(npmCat{})})
		if r.Complete || r.Reason != "stopped at the deadline after reading 0 of 3 layers" || r.CompressedBytes != 0 {
			t.Errorf("reason %q, read %d", r.Reason, r.CompressedBytes)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r, _ := ScanLayers(ctx, layers, Options{Catalogers: catalogers(npmCat{})})
		if len(r.Gaps) != 1 || r.Gaps[0].Kind != GapCanceled || r.Reason != "canceled after reading 0 of 3 layers" {
			t.Errorf("gaps %+v", r.Gaps)
		}
	})
}

// stalled is a layer whose stream gives some bytes and then blocks until
// closed, like a registry connection that stops sending; or whose
// Compressed blocks, like a registry that does not answer.
type stalled struct {
	v1.Layer
	prefix     []byte
	openBlocks bool
	release    chan struct{}
}

func (s *stalled) Compressed() (io.ReadCloser, error) {
	if s.openBlocks {
		<-s.release
	}
	pr, pw := io.Pipe()
	go func() {
		pw.Write(s.prefix)
		// Block: the reader gets nothing more until it closes the pipe.
	}()
	return pr, nil
}

func TestDeadlineCutsAStalledStream(t *testing.T) {
	data := gzipOf(t, tarOf(t, file("a/package.json", "a 1")))
	for _, openBlocks := range []bool{false, true} {
		t.Run(map[bool]string{false: "read blocks", true: "open blocks"}[openBlocks], func(t *testing.T) {
			l := &stalled{Layer: staticLayer(data, types.OCILayer), prefix: data[:10], openBlocks: openBlocks, release: make(chan struct{})}
			defer close(l.release)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			r, err := ScanLayers(ctx, []v1.Layer{l}, Options{Catalogers: catalogers(npmCat{})})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Gaps) != 1 || r.Gaps[0].Kind != GapDeadline {
				t.Errorf("gaps %+v, want the deadline", r.Gaps)
			}
		})
	}
}

func TestTruncatedAndCorruptLayers(t *testing.T) {
	tarball := tarOf(t, file("a/package.json", "a 1"), file("a/big", strings.Repeat("x", 100_000)), file("b/package.json", "b 1"))
	gz := gzipOf(t, tarball)
	zs := zstdOf(t, tarball)
	flipped := bytes.Clone(gz)
	flipped[len(flipped)-6] ^= 0xff // the CRC-32 in the trailer
	tests := []struct {
		name string
		data []byte
		mt   types.MediaType
	}{
		{"gzip cut in the middle", gz[:len(gz)/2], types.OCILayer},
		{"gzip cut before its trailer", gz[:len(gz)-4], types.OCILayer},
		{"gzip with a bad checksum", flipped, types.OCILayer},
		{"gzip header only", gz[:10], types.OCILayer},
		{"zstd cut", zs[:len(zs)/2], types.OCILayerZStd},
		{"tar cut in a header", tarball[:600], types.OCIUncompressedLayer},
		{"tar cut in a file", tarball[:2000], types.OCIUncompressedLayer},
		{"tar cut on a block boundary", tarball[:1024], types.OCIUncompressedLayer},
		{"gzip of a tar cut on a block boundary", gzipOf(t, tarball[:1024]), types.OCILayer},
		{"not a tar", bytes.Repeat([]byte("garbage!"), 200), types.OCIUncompressedLayer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := staticLayer(tt.data, tt.mt)
			good := gzipLayer(t, file("c/package.json", "c 1"))
			cache := NewMemoryCache(1 << 20)
			r, err := ScanLayers(context.Background(), []v1.Layer{bad, good}, Options{Catalogers: catalogers(npmCat{}), Cache: cache})
			if err != nil {
				t.Fatal(err)
			}
			d, _ := bad.Digest()
			if r.Complete || len(r.Gaps) != 1 || r.Gaps[0].Kind != GapCorrupt || r.Gaps[0].Layer != d {
				t.Fatalf("gaps %+v", r.Gaps)
			}
			if !strings.HasPrefix(r.Reason, "layer 1 of 2 ("+d.String()+") is truncated or corrupt: ") {
				t.Errorf("reason %q, want it to name the layer's digest", r.Reason)
			}
			// The next layer is still read; the bad one is not cached.
			if !slices.Contains(found(r), "/c/package.json c@1") || r.LayersRead != 1 {
				t.Errorf("found %q, LayersRead %d", found(r), r.LayersRead)
			}
			if _, ok := cache.Get(d); ok || cache.Len() != 1 {
				t.Errorf("the corrupt layer is cached (%d entries)", cache.Len())
			}
		})
	}
}

// failing is a layer whose source fails: at open, or after some bytes.
type failing struct {
	v1.Layer
	after int
}

func (f failing) Compressed() (io.ReadCloser, error) {
	if f.after < 0 {
		return nil, errors.New("GET blob: 503 Service Unavailable")
	}
	rc, _ := f.Layer.Compressed()
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, int64(f.after)), errReader{}), rc}, nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestFetchFailures(t *testing.T) {
	l := gzipLayer(t, file("a/package.json", "a 1"), file("a/z", strings.Repeat("z", 10_000)))
	for _, after := range []int{-1, 30} {
		r, _ := ScanLayers(context.Background(), []v1.Layer{failing{l, after}}, Options{Catalogers: catalogers(npmCat{})})
		if len(r.Gaps) != 1 || r.Gaps[0].Kind != GapFetch || !strings.Contains(r.Reason, "could not be read: ") {
			t.Errorf("after %d bytes: gaps %+v", after, r.Gaps)
		}
	}
}

type brokenImage struct{ v1.Image }

func (brokenImage) Layers() ([]v1.Layer, error) { return nil, errors.New("manifest unknown") }

func TestImageWithoutLayerList(t *testing.T) {
	r, err := Scan(context.Background(), brokenImage{}, Options{})
	if err != nil || r.Complete || r.Reason != "cannot list the image's layers: manifest unknown" || r.Gaps[0].Kind != GapFetch {
		t.Errorf("err %v, result %+v", err, r)
	}
}

func TestProgrammingErrors(t *testing.T) {
	var noCtx context.Context
	if _, err := ScanLayers(noCtx, nil, Options{}); err == nil {
		t.Error("nil context: no error")
	}
	if _, err := Scan(context.Background(), nil, Options{}); err == nil {
		t.Error("nil image: no error")
	}
	if _, err := ScanLayers(context.Background(), []v1.Layer{nil}, Options{}); err == nil {
		t.Error("nil layer: no error")
	}
	if _, err := ScanLayers(context.Background(), nil, Options{Catalogers: catalogers(nil)}); err == nil {
		t.Error("nil cataloger: no error")
	}
}
