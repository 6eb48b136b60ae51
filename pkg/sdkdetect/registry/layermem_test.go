package registry

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// bigImages serves n images of one uncompressed tar layer each: a file of
// size incompressible bytes, then an old client-node package.json. Blobs
// are generated as they are sent (from a seed), so the test holds none of
// them in memory.
type bigImages struct {
	n     int
	size  int64
	blobs map[string]func() io.Reader // by digest
	sizes map[string]int64
	tags  map[string][]byte // "app-i" → manifest
}

func newBigImages(t testing.TB, n int, size int64) *bigImages {
	b := &bigImages{n: n, size: size, blobs: map[string]func() io.Reader{}, sizes: map[string]int64{}, tags: map[string][]byte{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := func() io.Reader { return bigLayer(uint64(i), size) }
			h := sha256.New()
			m, err := io.Copy(h, gen())
			if err != nil {
				t.Error(err)
				return
			}
			layer := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
			cfg := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%q]},"config":{}}`, layer.String()))
			ch, _, _ := v1.SHA256(strings.NewReader(string(cfg)))
			man, _ := json.Marshal(v1.Manifest{
				SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
				Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cfg)), Digest: ch},
				Layers: []v1.Descriptor{{MediaType: types.OCIUncompressedLayer, Size: m, Digest: layer}},
			})
			mu.Lock()
			b.blobs[layer.String()], b.sizes[layer.String()] = gen, m
			b.blobs[ch.String()] = func() io.Reader { return strings.NewReader(string(cfg)) }
			b.sizes[ch.String()] = int64(len(cfg))
			b.tags["app-"+strconv.Itoa(i)] = man
			mu.Unlock()
		}()
	}
	wg.Wait()
	return b
}

// bigLayer is a tar: /data/blob (size incompressible bytes), then an old
// @kubernetes/client-node.
func bigLayer(seed uint64, size int64) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<16)
		tw := tar.NewWriter(bw)
		_ = tw.WriteHeader(&tar.Header{Name: "data/blob", Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
		rng := rand.NewChaCha8([32]byte{byte(seed), 1, 2, 3})
		_, _ = io.CopyN(tw, rng, size)
		pkg := `{"name":"@kubernetes/client-node","version":"0.10.2"}`
		_ = tw.WriteHeader(&tar.Header{Name: "app/node_modules/@kubernetes/client-node/package.json", Mode: 0o644, Size: int64(len(pkg)), Typeflag: tar.TypeReg})
		_, _ = io.WriteString(tw, pkg)
		_ = tw.Close()
		_ = bw.Flush()
		pw.Close()
	}()
	return pr
}

func (b *bigImages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/v2/":
		w.WriteHeader(http.StatusOK)
	case strings.Contains(path, "/manifests/"):
		ref := path[strings.LastIndex(path, "/")+1:]
		man, ok := b.tags[ref]
		if !ok {
			for _, m := range b.tags {
				if d, _, _ := v1.SHA256(strings.NewReader(string(m))); d.String() == ref {
					man, ok = m, true
				}
			}
		}
		if !ok {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		d, _, _ := v1.SHA256(strings.NewReader(string(man)))
		w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
		w.Header().Set("Docker-Content-Digest", d.String())
		w.Header().Set("Content-Length", strconv.Itoa(len(man)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(man)
		}
	case strings.Contains(path, "/blobs/"):
		digest := path[strings.LastIndex(path, "/")+1:]
		gen, ok := b.blobs[digest]
		if !ok {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(b.sizes[digest], 10))
		w.Header().Set("Docker-Content-Digest", digest)
		if r.Method != http.MethodHead {
			_, _ = io.Copy(w, gen())
		}
	case strings.Contains(path, "/referrers/"):
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		_, _ = w.Write([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	default:
		http.NotFound(w, r)
	}
}

// rssBytes is the process's resident set size, from /proc.
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// scanBigImages scans n images of size bytes at once, with Concurrency n,
// and returns the peak RSS seen while they ran.
func scanBigImages(t testing.TB, n int, size int64) (peak int64, took time.Duration) {
	imgs := newBigImages(t, n, size)
	r := serveCounting(t, imgs)
	s := newSource(t, Options{Timeout: time.Second, Layers: LayerOptions{Mode: LayersAuto, Concurrency: n, Wait: true, MaxCompressedBytes: 4 << 30}})
	done := make(chan struct{})
	var peakMu sync.Mutex
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if v := rssBytes(); v > 0 {
					peakMu.Lock()
					peak = max(peak, v)
					peakMu.Unlock()
				}
			}
		}
	}()
	begin := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := s.Evidence(context.Background(), policy.Puller{}, fmt.Sprintf("%s/big/app:app-%d", r.host, i))
			if len(ev.Packages) != 1 || ev.Packages[0].Version != "0.10.2" || ev.Layers != policy.SourceLayers {
				t.Errorf("image %d: %+v", i, ev)
			}
		}()
	}
	wg.Wait()
	took = time.Since(begin)
	close(done)
	peakMu.Lock()
	defer peakMu.Unlock()
	return peak, took
}

// TestLayerScanMemoryBounded: 8 scans at once of images whose SDK sits
// behind 64 MiB of incompressible bytes each keep the process small: a
// layer is streamed, never held. BenchmarkLayerScanMemory runs the issue's
// 8 × 500 MB.
func TestLayerScanMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 512 MiB of layers")
	}
	if raceEnabled {
		t.Skip("RSS is not the program's under -race (shadow memory); make test runs this without -race")
	}
	peak, took := scanBigImages(t, 8, 64<<20)
	t.Logf("8 scans of 64 MiB images at once: peak RSS %.1f MiB, %s", float64(peak)/(1<<20), took.Round(time.Millisecond))
	if peak > 200<<20 {
		t.Errorf("peak RSS %.1f MiB while scanning, want under 200 MiB", float64(peak)/(1<<20))
	}
}

// BenchmarkLayerScanMemory: 8 images of 500 MB scanned at once (the
// issue's bound: under 200 MB RSS). Reports peak-RSS-MiB.
func BenchmarkLayerScanMemory(b *testing.B) {
	for range b.N {
		peak, took := scanBigImages(b, 8, 500<<20)
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(took.Seconds(), "s/8-scans")
	}
}
