// Command cachemem measures the memory held by tokenguard's registry
// evidence cache (pkg/sdkdetect/registry) once it is full of image digests
// (issue #8: "RSS ≤ 40 MB with 10,000 cached image digests").
//
// It starts go-containerregistry's in-memory registry (with the referrers
// API, as test/e2e StartRegistry, but quiet) on 127.0.0.1 in this process,
// pushes -images random images, each with an SPDX SBOM referrer listing one
// catalogued package (test/e2e PushWithSBOM), then builds a registry.Source as
// tokenguard serve does (CacheEntries -cache-entries, Keep = the default
// catalogue) and asks it for the evidence of every image by digest
// (host/repo@sha256:...), one distinct digest each. Heap in use and VmRSS are
// read after a forced GC before the Source is built and again after the
// lookups; the difference is the cache (and the Source's connections), since
// the registry's own memory does not change in between.
//
//	go run ./test/load/cachemem -images 10000
//
// With -serve BIN it measures tokenguard serve itself instead (serve.go):
// it starts BIN serve on 127.0.0.1 with registry lookups on against that
// registry, sends one AdmissionReview per digest to /validate/warn (twice:
// the second pass hits the cache) and reads serve's VmRSS and VmHWM.
//
//	go run ./test/load/cachemem -serve bin/tokenguard -images 10000
//
// -json FILE also writes the figures of the tables, machine-readable
// (json.go): with -serve, VmRSS and VmHWM idle, after the first and after the
// second pass, and serve's registry cache hit and miss counts; in-process,
// heap in use and VmRSS before and after. test/load/summary reads the -serve
// file of a load-test suite (test/load/run.sh SUITE=1).
//
// Only 127.0.0.1 is contacted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
	"github.com/tokenguard/tokenguard/test/e2e"
)

func main() {
	images := flag.Int("images", 10000, "distinct images (digests) to push and look up")
	entries := flag.Int("cache-entries", 10000, "registry.Options.CacheEntries")
	parallel := flag.Int("parallel", 8, "concurrent pushes and lookups")
	purl := flag.String("purl", "pkg:golang/k8s.io/client-go@v0.29.3", "the catalogued package in every SBOM")
	serve := flag.String("serve", "", "a tokenguard binary: measure `tokenguard serve` itself (VmRSS, VmHWM) instead of a registry.Source in this process")
	memprofile := flag.String("memprofile", "", "write a heap profile to `file` after the lookups (in-process mode only): go tool pprof -sample_index=inuse_space -top -focus registry FILE")
	fixture := flag.String("fixture", "test/load/fixtures/pod-3c-allowed.json", "-serve: the AdmissionReview sent, its containers' images replaced by one digest per review")
	jsonFile := flag.String("json", "", "also write the figures to `FILE` as JSON")
	flag.Parse()
	if *memprofile != "" {
		runtime.MemProfileRate = 1 // every allocation: exact bytes per cache entry
	}
	var err error
	if *serve != "" {
		err = runServe(*serve, *fixture, *images, *entries, *parallel, *purl, *jsonFile)
	} else {
		err = run(*images, *entries, *parallel, *purl, *memprofile, *jsonFile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cachemem:", err)
		os.Exit(1)
	}
}

func run(images, entries, parallel int, purl, memprofile, jsonFile string) error {
	catalog, err := policy.DefaultCatalog()
	if err != nil {
		return err
	}
	srv, reg := startRegistry()
	defer srv.Close()

	refs, err := push(reg, images, parallel, purl)
	if err != nil {
		return err
	}

	before := measure()
	src := registry.New(registry.Options{
		Timeout:            30 * time.Second,
		CacheEntries:       entries,
		InsecureRegistries: []string{reg.Host},
		Keychain:           authn.NewMultiKeychain(), // anonymous, no docker config
		Keep:               func(p sdkdetect.PURL) bool { return catalog.KeepPURL(p.Type, p.Namespace, p.Name) },
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer src.Close()

	start := time.Now()
	var withSBOM, unavailable atomic.Int64
	var firstProblem atomic.Value
	if err := each(images, parallel, func(i int) error {
		ev := src.Evidence(context.Background(), policy.Puller{}, refs[i])
		if ev.Unavailable != "" {
			unavailable.Add(1)
			firstProblem.CompareAndSwap(nil, refs[i]+": "+ev.Unavailable)
		} else if len(ev.Packages) > 0 {
			withSBOM.Add(1)
		}
		return nil
	}); err != nil {
		return err
	}
	looked := time.Since(start)
	// A second pass must be all cache hits when the cache holds every digest.
	start = time.Now()
	for _, r := range refs {
		src.Evidence(context.Background(), policy.Puller{}, r)
	}
	warm := time.Since(start)
	after := measure()
	if memprofile != "" {
		if err := writeHeapProfile(memprofile); err != nil {
			return err
		}
	}

	fmt.Printf("looked up %d digests in %s (%d with the SBOM package, %d unavailable); second pass %s (%.1f µs/lookup)\n",
		images, looked.Round(time.Millisecond), withSBOM.Load(), unavailable.Load(), warm.Round(time.Millisecond),
		float64(warm.Microseconds())/float64(images))
	if p := firstProblem.Load(); p != nil {
		fmt.Printf("first unavailable: %s\n", p)
	}
	fmt.Printf("\n| | heap in use MB | VmRSS MB |\n|---|--:|--:|\n")
	fmt.Printf("| registry filled, before the Source | %.1f | %.1f |\n", mb(before.heap), mb(before.rss))
	fmt.Printf("| after %d lookups (cache-entries %d) | %.1f | %.1f |\n", images, entries, mb(after.heap), mb(after.rss))
	dh, dr := after.heap-before.heap, after.rss-before.rss
	fmt.Printf("| difference: the Source and its cache | %.1f | %.1f |\n", mb(dh), mb(dr))
	k := float64(images) / 1000
	fmt.Printf("| per 1,000 cached images | %.2f | %.2f |\n", mb(dh)/k, mb(dr)/k)
	if jsonFile == "" {
		return nil
	}
	return writeJSON(jsonFile, inProcessResult{
		Mode: "in-process", Images: images, CacheEntries: entries, Parallel: parallel,
		LookupSec: looked.Seconds(), SecondPassSec: warm.Seconds(),
		WithSBOM: withSBOM.Load(), Unavailable: unavailable.Load(),
		Before: memFigures(before), After: memFigures(after),
	})
}

// each runs f(0..n-1) on parallel goroutines; the first error wins.
func each(n, parallel int, f func(int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					first = errors.Join(first, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

type mem struct{ heap, rss int64 } // bytes

// measure forces a GC, returns freed memory to the OS, and reads heap in use
// and VmRSS.
func measure() mem {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := mem{heap: int64(ms.HeapInuse)}
	data, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				f := strings.Fields(rest)
				if len(f) == 2 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.rss = kb * 1024
				}
			}
		}
	}
	return m
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// startRegistry starts e2e.StartRegistry's registry (referrers API) on
// 127.0.0.1, without its log line per request.
func startRegistry() (*httptest.Server, *e2e.Registry) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.WithReferrersSupport(true),
		ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	return srv, &e2e.Registry{Host: strings.TrimPrefix(srv.URL, "http://")}
}

// push pushes images random images with an SBOM referrer listing purl to reg
// and returns their references by digest.
func push(reg *e2e.Registry, images, parallel int, purl string) ([]string, error) {
	start := time.Now()
	refs := make([]string, images)
	if err := each(images, parallel, func(i int) error {
		tagged, err := reg.PushWithSBOM(fmt.Sprintf("acme/app%d", i%100), fmt.Sprintf("v%d", i), purl)
		if err != nil {
			return err
		}
		ref, err := name.ParseReference(tagged, name.Insecure)
		if err != nil {
			return err
		}
		desc, err := remote.Head(ref)
		if err != nil {
			return err
		}
		refs[i] = ref.Context().Digest(desc.Digest.String()).String()
		return nil
	}); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	fmt.Printf("pushed %d images with SBOM referrers in %s\n", images, time.Since(start).Round(time.Millisecond))

	return refs, nil
}

// writeHeapProfile writes the heap profile (as of the last GC) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write the heap profile: %w", err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("cannot write the heap profile %s: %w", path, err)
	}
	return f.Close()
}
