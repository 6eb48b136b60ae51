package layers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestCacheSharesBaseLayers(t *testing.T) {
	base := &countingLayer{Layer: gzipLayer(t,
		file("usr/lib/node_modules/@kubernetes/client-node/package.json", "@kubernetes/client-node 0.10.2"),
		file("usr/bin/tool", "\x7fELF k8s.io/client-go v0.15.7"),
	)}
	appA := &countingLayer{Layer: gzipLayer(t, file("app/a", "a"))}
	appB := &countingLayer{Layer: gzipLayer(t, whiteout("usr/bin/.wh.tool"), file("app/package.json", "b 2.0.0"))}
	cache := NewMemoryCache(1 << 20)
	opts := Options{Catalogers: catalogers(npmCat{}, elfCat{}), Cache: cache}

	ra := scanImage(t, imageOf(t, base, appA), opts)
	if ra.LayersRead != 2 || ra.LayersCached != 0 || base.opened.Load() != 1 {
		t.Fatalf("first image: LayersRead %d, LayersCached %d, base opened %d", ra.LayersRead, ra.LayersCached, base.opened.Load())
	}
	rb := scanImage(t, imageOf(t, base, appB), opts)
	if rb.LayersRead != 1 || rb.LayersCached != 1 || base.opened.Load() != 1 || appB.opened.Load() != 1 {
		t.Fatalf("second image: LayersRead %d, LayersCached %d, base opened %d times, want once", rb.LayersRead, rb.LayersCached, base.opened.Load())
	}
	size, _ := appB.Size()
	if rb.CompressedBytes != size {
		t.Errorf("second image read %d compressed bytes, want only its own layer's %d", rb.CompressedBytes, size)
	}
	// The cached base merges with the new layer as a read one would.
	want := []string{"/app/package.json b@2.0.0", "/usr/lib/node_modules/@kubernetes/client-node/package.json @kubernetes/client-node@0.10.2"}
	if got := found(rb); !slices.Equal(got, want) {
		t.Errorf("found %q, want %q", got, want)
	}
	uncached := scanImage(t, imageOf(t, base, appB), Options{Catalogers: opts.Catalogers})
	if !slices.Equal(found(uncached), found(rb)) || uncached.Files != rb.Files {
		t.Errorf("cached scan %q (%d files) differs from an uncached one %q (%d files)", found(rb), rb.Files, found(uncached), uncached.Files)
	}

	// Other catalogers: a miss, not a wrong answer.
	rc := scanImage(t, imageOf(t, base, appA), Options{Catalogers: catalogers(npmCat{}), Cache: cache})
	if rc.LayersCached != 0 || len(rc.Found) != 1 {
		t.Errorf("with other catalogers: LayersCached %d, found %q", rc.LayersCached, found(rc))
	}
}

// TestCachedHardLinkToLowerLayer: a cached layer's hard link to a file of
// a lower layer is resolved at merge time, against whatever is below it.
func TestCachedHardLinkToLowerLayer(t *testing.T) {
	bin := gzipLayer(t, file("usr/bin/tool", "\x7fELF k8s.io/client-go v0.20.0"))
	link := gzipLayer(t, hardlink("opt/tool", "usr/bin/tool"))
	cache := NewMemoryCache(1 << 20)
	opts := Options{Cache: cache}
	scanImage(t, imageOf(t, bin, link), opts)
	r := scanImage(t, imageOf(t, bin, link), opts)
	want := []string{"/opt/tool k8s.io/client-go@v0.20.0", "/usr/bin/tool k8s.io/client-go@v0.20.0"}
	if got := found(r); r.LayersCached != 2 || !slices.Equal(got, want) {
		t.Errorf("LayersCached %d, found %q, want %q", r.LayersCached, got, want)
	}
}

func TestMemoryCacheBound(t *testing.T) {
	sum := func(n int) *LayerSummary {
		s := &LayerSummary{files: map[string]fileResult{}}
		for i := range n {
			s.whiteouts = append(s.whiteouts, string(rune('a'+i%26))+"/x")
		}
		s.size = s.sizeOf()
		return s
	}
	one := sum(10).SizeBytes()
	c := NewMemoryCache(3 * one)
	h := func(i byte) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: string([]byte{'0' + i})} }
	for i := range byte(3) {
		c.Put(h(i), sum(10))
	}
	c.Get(h(0)) // 0 is now the most recently used: 1 goes first
	c.Put(h(3), sum(10))
	if _, ok := c.Get(h(1)); ok || c.Len() != 3 || c.Bytes() != 3*one {
		t.Errorf("after an eviction: has 1 %v, Len %d, Bytes %d", ok, c.Len(), c.Bytes())
	}
	for _, i := range []byte{0, 2, 3} {
		if _, ok := c.Get(h(i)); !ok {
			t.Errorf("%d evicted", i)
		}
	}
	c.Put(h(9), sum(1000)) // larger than the bound: not kept
	if _, ok := c.Get(h(9)); ok || c.Bytes() > 3*one {
		t.Errorf("an oversize summary is kept (Bytes %d)", c.Bytes())
	}
}

// TestSummaryIsSmall: a layer of many files without findings is summarised
// in about 8 bytes a path, not by its paths.
func TestSummaryIsSmall(t *testing.T) {
	var entries []entry
	for i := range 5000 {
		entries = append(entries, file("usr/share/doc/some-package-with-a-long-name/file-"+strconv.Itoa(i)+".txt", "x"))
	}
	l := gzipLayer(t, entries...)
	cache := NewMemoryCache(1 << 30)
	r, _ := ScanLayers(context.Background(), []v1.Layer{l}, Options{Catalogers: catalogers(npmCat{}), Cache: cache})
	if !r.Complete {
		t.Fatal(r.Reason)
	}
	if got := cache.Bytes(); got > 5000*8+1024 {
		t.Errorf("summary of 5,000 paths holds %d bytes, want about 8 a path", got)
	}
}

// TestConcurrentScansShareACache: scans running at once share summaries
// (immutable) and pooled buffers; run with -race.
func TestConcurrentScansShareACache(t *testing.T) {
	base := gzipLayer(t, file("usr/bin/tool", "\x7fELF k8s.io/client-go v0.15.7"), file("a/package.json", "a 1"))
	cache := NewMemoryCache(1 << 20)
	want := []string{"/a/package.json a@1", "/app/package.json app@1", "/usr/bin/tool k8s.io/client-go@v0.15.7"}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := range 8 {
		wg.Go(func() {
			app := gzipLayer(t, file("app/package.json", "app 1"), file("app/"+strconv.Itoa(i), "x"))
			r, err := Scan(context.Background(), imageOf(t, base, app), Options{Catalogers: catalogers(npmCat{}, elfCat{}), Cache: cache})
			if err != nil || !slices.Equal(found(r), want) {
				errs <- fmt.Sprintf("scan %d: %v, found %q", i, err, found(r))
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
