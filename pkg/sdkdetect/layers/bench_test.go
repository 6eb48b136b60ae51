package layers

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// The benchmark layer: 100,000 small files (up to 500 bytes, so each tar
// entry is a header block and one data block: about 100 MB of tar) and one
// package.json the cataloger wants.
var bench struct {
	once            sync.Once
	tar, gzip, zstd []byte
}

func benchLayer(b *testing.B) {
	bench.once.Do(func() {
		bench.tar = syntheticTar(b, 100_000, 500)
		var buf bytes.Buffer
		zw := kgzip.NewWriter(&buf) // default level, as image builders use
		zw.Write(bench.tar)
		zw.Close()
		bench.gzip = buf.Bytes()
		ze, _ := zstd.NewWriter(nil)
		bench.zstd = ze.EncodeAll(bench.tar, nil)
		b.Logf("tar %d bytes, gzip %d, zstd %d", len(bench.tar), len(bench.gzip), len(bench.zstd))
	})
}

func benchData(name string) ([]byte, types.MediaType) {
	if name == "zstd" {
		return bench.zstd, types.OCILayerZStd
	}
	return bench.gzip, types.OCILayer
}

// BenchmarkScan scans the benchmark layer with one cataloger.
func BenchmarkScan(b *testing.B) {
	benchLayer(b)
	for _, name := range []string{"gzip", "zstd"} {
		b.Run(name, func(b *testing.B) {
			data, mt := benchData(name)
			layer := staticLayer(data, mt)
			opts := Options{Catalogers: catalogers(npmCat{})}
			b.SetBytes(int64(len(bench.tar)))
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				r, err := ScanLayers(context.Background(), []v1.Layer{layer}, opts)
				if err != nil || !r.Complete || len(r.Found) != 1 {
					b.Fatalf("err %v, %s, found %d", err, r.Reason, len(r.Found))
				}
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkFloor only decompresses the benchmark layer and discards it,
// with the scan's decompressors: the least a scan can cost. "stdlib" is
// compress/gzip, for comparison.
func BenchmarkFloor(b *testing.B) {
	benchLayer(b)
	for _, name := range []string{"gzip", "zstd", "gzip-stdlib"} {
		b.Run(name, func(b *testing.B) {
			data, _ := benchData(name)
			b.SetBytes(int64(len(bench.tar)))
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				if err := floor(name, data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

func floor(name string, data []byte) error {
	if name == "gzip-stdlib" {
		zr, err := stdgzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, zr)
		return err
	}
	var d decompressor
	defer d.release()
	r, err := d.open(bytes.NewReader(data))
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, r)
	return err
}

// BenchmarkScanVsFloor reports the scan's cost over the floor's, each
// measured on the same iteration: wall time ("scan/floor") and process CPU
// time ("cpu-scan/floor", the steadier figure on a loaded machine).
func BenchmarkScanVsFloor(b *testing.B) {
	benchLayer(b)
	for _, name := range []string{"gzip", "zstd"} {
		b.Run(name, func(b *testing.B) {
			data, mt := benchData(name)
			layer := staticLayer(data, mt)
			opts := Options{Catalogers: catalogers(npmCat{})}
			var scan, fl, scanCPU, flCPU time.Duration
			for b.Loop() {
				t0, c0 := time.Now(), cpuTime()
				if err := floor(name, data); err != nil {
					b.Fatal(err)
				}
				t1, c1 := time.Now(), cpuTime()
				if _, err := ScanLayers(context.Background(), []v1.Layer{layer}, opts); err != nil {
					b.Fatal(err)
				}
				fl += t1.Sub(t0)
				scan += time.Since(t1)
				flCPU += c1 - c0
				scanCPU += cpuTime() - c1
			}
			b.ReportMetric(float64(scan)/float64(fl), "scan/floor")
			if flCPU > 0 {
				b.ReportMetric(float64(scanCPU)/float64(flCPU), "cpu-scan/floor")
			}
		})
	}
}
