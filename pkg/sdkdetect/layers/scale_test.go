package layers

import (
	"context"
	"io"
	"runtime"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// countingNPM is npmCat that counts its calls.
type countingNPM struct {
	npmCat
	wants, reads int
}

func (c *countingNPM) Wants(f filecat.File) bool { c.wants++; return c.npmCat.Wants(f) }
func (c *countingNPM) Read(f filecat.File, r io.Reader, l filecat.Limits) (filecat.Result, error) {
	c.reads++
	return c.npmCat.Read(f, r, l)
}

// TestManyTinyFiles: 100,000 empty files are offered one by one, read
// never, and cost a bounded number of allocations and retained bytes.
func TestManyTinyFiles(t *testing.T) {
	const n = 100_000
	tarball := syntheticTar(t, n, 0)
	layer := staticLayer(gzipOf(t, tarball), types.OCILayer)
	cat := &countingNPM{}
	cache := NewMemoryCache(1 << 30)
	var r Result
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := ScanLayers(context.Background(), []v1.Layer{layer}, Options{Catalogers: catalogers(cat), Cache: cache})
	runtime.ReadMemStats(&after)
	if err != nil || !r.Complete {
		t.Fatalf("err %v, incomplete: %s", err, r.Reason)
	}
	if want := []string{"/" + wantedPath + " @kubernetes/client-node@0.10.3"}; !slices.Equal(found(r), want) {
		t.Errorf("found %q, want %q", found(r), want)
	}
	if r.Files != n || cat.wants != n || cat.reads != 1 {
		t.Errorf("Files %d, Wants called %d times, Read %d times; want %d, %d, 1", r.Files, cat.wants, cat.reads, n, n)
	}
	// Nothing is allocated per entry: headers are read in place, paths
	// built in a reused buffer. What is allocated is per layer (buffers
	// the first time, the summary's hash set: 8 bytes a path), so an
	// allocation per entry, a buffered file or a map entry per path
	// shows here.
	allocs := after.Mallocs - before.Mallocs
	bytesPerEntry := (after.TotalAlloc - before.TotalAlloc) / (n + n/100)
	t.Logf("%d allocations, %d bytes allocated per entry, summary %d bytes", allocs, bytesPerEntry, cache.Bytes())
	if allocs > 2000 {
		t.Errorf("%d allocations for %d entries, want at most 2,000 whatever the number of entries", allocs, n+n/100)
	}
	if bytesPerEntry > 128 {
		t.Errorf("%d bytes allocated per tar entry, want at most 128", bytesPerEntry)
	}
	// What the scan keeps is 8 bytes a path (the summary's hash set).
	if cache.Bytes() > 8*(n+n/100)+4096 {
		t.Errorf("summary of %d paths is %d bytes, want about 8 bytes a path", n+n/100, cache.Bytes())
	}
}
