package layers

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// stopError is why a scan stopped before its last layer: a budget or the
// context. Readers return it, and the budget keeps the first one.
type stopError struct{ kind GapKind }

func (e *stopError) Error() string { return "layer scan stopped: " + string(e.kind) }

// budget holds one image's byte budgets and its context; the readers of
// every layer of the image draw from it. It is used by one goroutine.
type budget struct {
	done                  <-chan struct{}
	ctx                   context.Context
	maxCompressed, maxTar int64
	compressed, tar       int64
	stop                  *stopError
}

func newBudget(ctx context.Context, o Options) *budget {
	return &budget{
		ctx:           ctx,
		done:          ctx.Done(),
		maxCompressed: o.MaxCompressedBytes,
		maxTar:        o.MaxUncompressedBytes,
	}
}

// stopped returns the first stop, checking the context first; it does not
// allocate and costs a channel poll.
func (b *budget) stopped() *stopError {
	if b.stop != nil {
		return b.stop
	}
	select {
	case <-b.done:
		kind := GapCanceled
		if errors.Is(b.ctx.Err(), context.DeadlineExceeded) {
			kind = GapDeadline
		}
		b.stop = &stopError{kind: kind}
	default:
	}
	return b.stop
}

func (b *budget) exceed(kind GapKind) *stopError {
	if b.stop == nil {
		b.stop = &stopError{kind: kind}
	}
	return b.stop
}

// clip shortens p so that a read through it passes limit by at most one
// byte: the byte that tells a stream ending exactly at the limit from one
// going on.
func clip(p []byte, used, limit int64) []byte {
	if rem := limit - used; rem < math.MaxInt64 && int64(len(p)) > rem+1 {
		return p[:rem+1]
	}
	return p
}

// fetchError is a failure of a layer's source (the registry connection,
// ggcr's digest check), told apart from a malformed layer.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// compressedReader reads a layer's compressed stream within the budget,
// stopping at the context's end.
type compressedReader struct {
	r   io.Reader
	b   *budget
	err *fetchError // the source's first failure
}

func (c *compressedReader) Read(p []byte) (int, error) {
	if s := c.b.stopped(); s != nil {
		return 0, s
	}
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(clip(p, c.b.compressed, c.b.maxCompressed))
	c.b.compressed += int64(n)
	if c.b.compressed > c.b.maxCompressed {
		c.b.compressed = c.b.maxCompressed
		return 0, c.b.exceed(GapCompressedBudget)
	}
	if err != nil && err != io.EOF {
		// A read cut by the context (the AfterFunc closed the stream)
		// is the context's stop, not the registry's failure.
		if s := c.b.stopped(); s != nil {
			return n, s
		}
		c.err = &fetchError{err: err}
		return n, c.err
	}
	return n, err
}

// tarReader reads a layer's decompressed tar stream within the budget. It
// polls the context on every read: a small compressed input can decompress
// for a long time. It also measures what ends the stream, for ended.
type tarReader struct {
	r io.Reader
	b *budget
	// n is the stream's length so far, zeros the length of its run of
	// trailing zero bytes.
	n, zeros int64
}

func (t *tarReader) Read(p []byte) (int, error) {
	if s := t.b.stopped(); s != nil {
		return 0, s
	}
	n, err := t.r.Read(clip(p, t.b.tar, t.b.maxTar))
	t.b.tar += int64(n)
	if t.b.tar > t.b.maxTar {
		t.b.tar = t.b.maxTar
		return 0, t.b.exceed(GapUncompressedBudget)
	}
	t.n += int64(n)
	if z := trailingZeros(p[:n]); z == n {
		t.zeros += int64(n)
	} else {
		t.zeros = int64(z)
	}
	return n, err
}

// errNoEndMarker: archive/tar takes a stream that ends on a block boundary
// for a complete archive; an uncompressed layer cut there would pass for
// one.
var errNoEndMarker = errors.New("the tar stream ends without its end-of-archive marker")

// ended checks, once the stream is read to its end, that it ends as a tar
// does: whole 512-byte blocks, the last one zeros (the end-of-archive
// marker, then padding). An empty stream is an empty layer.
func (t *tarReader) ended() error {
	if t.n == 0 || (t.n%512 == 0 && t.zeros >= 512) {
		return nil
	}
	return errNoEndMarker
}

// trailingZeros counts the zero bytes that end b.
func trailingZeros(b []byte) int {
	i := len(b)
	for i >= 8 && binary.LittleEndian.Uint64(b[i-8:]) == 0 {
		i -= 8
	}
	for i > 0 && b[i-1] == 0 {
		i--
	}
	return len(b) - i
}

// openLayer calls l.Compressed, giving up at the context's end (a remote
// layer's Compressed waits for the registry's response). The stream it
// returns is closed when the context ends, which unblocks a read waiting
// on a stalled connection; the caller must call the returned close.
func openLayer(ctx context.Context, l v1.Layer) (io.Reader, func(), error) {
	type opened struct {
		rc  io.ReadCloser
		err error
	}
	var o opened
	if ctx.Done() == nil {
		o.rc, o.err = l.Compressed()
	} else {
		ch := make(chan opened, 1)
		go func() {
			rc, err := l.Compressed()
			ch <- opened{rc, err}
		}()
		select {
		case o = <-ch:
		case <-ctx.Done():
			go func() {
				if late := <-ch; late.rc != nil {
					late.rc.Close()
				}
			}()
			return nil, nil, ctx.Err()
		}
	}
	if o.err != nil {
		return nil, nil, &fetchError{err: o.err}
	}
	var once sync.Once
	closeRC := func() { once.Do(func() { o.rc.Close() }) }
	stop := context.AfterFunc(ctx, closeRC)
	return o.rc, func() { stop(); closeRC() }, nil
}
