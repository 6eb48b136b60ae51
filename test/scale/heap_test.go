package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/pkg/controller"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// envProfileDir, when set, is where BenchmarkControllerHeap writes its
// heap profiles (relative to the checkout's root; unset, a temporary
// folder, removed).
const envProfileDir = "TOKENGUARD_SCALE_PROFILE_DIR"

// BenchmarkControllerHeap is where the controller's memory and time go at
// scale, in this process and with heap profiles: the parts of `tokenguard
// controller` as cmd/webhook wires them (controller.Cache over a
// kube.Client, a Reconciler with the engine, the cache's IRSA context and
// control plane v1.37, a Writer at --write-qps 20 and --write-burst 40),
// against the API server of the 10,000-pod fleet ($TOKENGUARD_SCALE_SIZES'
// largest). Evidence is the tag only (no registry), and the Writer's
// dynamic client has no client-side limit of its own, so the pass runs
// at the Writer's rate: the figure the binary would show with that limit
// raised.
//
// Reported: the caches' live heap once synced (after a GC), the live heap
// after the first and the steady pass, the bytes each pass allocates, the
// highest heap (live and garbage) seen while syncing and during the first
// pass, and their times. Heap profiles before the caches start
// (base.pprof) and after each step: cache.pprof, first-pass.pprof,
// steady-pass.pprof (inuse_space: what stays;
// alloc_space with -base the step before: what a step allocates).
func BenchmarkControllerHeap(b *testing.B) {
	if testing.Short() {
		b.Skip("starts a control plane and creates thousands of pods (skipped with -short)")
	}
	if os.Getenv(cluster.EnvBinDir) == "" {
		b.Skipf("$%s is unset (set it to hack/e2e-binaries.sh's last line)", cluster.EnvBinDir)
	}
	sizes, err := parseSizes(os.Getenv(envSizes))
	if err != nil {
		b.Fatal(err)
	}
	s := sizes[len(sizes)-1]
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	e := setup(ctx, b, s, false)
	profiles := b.TempDir()
	if dir := os.Getenv(envProfileDir); dir != "" {
		profiles = fromRoot(dir)
	}
	if err := os.MkdirAll(profiles, 0o755); err != nil {
		b.Fatal(err)
	}

	// What setup left behind goes first: the figures below are the
	// controller's parts only.
	runtime.GC()
	debug.FreeOSMemory()
	base := heapStats()
	writeProfile(b, filepath.Join(profiles, "base.pprof"))
	peak := watchHeap()

	kc, err := kube.NewForConfig(rest.CopyConfig(e.cluster.Config))
	if err != nil {
		b.Fatal(err)
	}
	cacheCtx, stopCache := context.WithCancel(ctx)
	cache := controller.NewCache(kc, 0, nil)
	t0 := time.Now()
	cache.Start(cacheCtx)
	defer func() { stopCache(); cache.Shutdown() }()
	if !cache.WaitForSync(ctx) {
		b.Fatal("the caches did not sync")
	}
	syncTime := time.Since(t0)
	syncPeak := peak.take() - base.objects
	runtime.GC()
	synced := heapStats()
	writeProfile(b, filepath.Join(profiles, "cache.pprof"))

	cat, err := policy.DefaultCatalog()
	if err != nil {
		b.Fatal(err)
	}
	cp, err := policy.ParseKubeVersion("v1.37.2")
	if err != nil {
		b.Fatal(err)
	}
	dc := rest.CopyConfig(e.cluster.Config)
	dc.QPS = -1 // no client-side limit: the Writer's token bucket is the only one
	r := &controller.Reconciler{Source: cache,
		Engine: engine.New(engine.Options{Catalog: cat, Evidence: sdkdetect.TagOnly{}, ControlPlane: &cp, AWS: cache}),
		Writer: controller.NewWriter(dynamic.NewForConfigOrDie(dc), false, 20, 40)}
	b.StartTimer()
	t1 := time.Now()
	first, err := r.Sync(ctx)
	firstTime := time.Since(t1)
	b.StopTimer()
	if err != nil || first.Created != len(e.fleet.workloads) {
		b.Fatalf("first pass: %+v, %v", first, err)
	}
	passPeak := peak.take() - base.objects
	after1 := heapStats()
	runtime.GC()
	live1 := heapStats()
	writeProfile(b, filepath.Join(profiles, "first-pass.pprof"))

	t2 := time.Now()
	steady, err := r.Sync(ctx)
	steadyTime := time.Since(t2)
	if err != nil || steady.Unchanged != len(e.fleet.workloads) {
		b.Fatalf("steady pass: %+v, %v", steady, err)
	}
	after2 := heapStats()
	runtime.GC()
	live2 := heapStats()
	writeProfile(b, filepath.Join(profiles, "steady-pass.pprof"))
	peak.stop()

	mib := func(v uint64) float64 { return float64(v) / (1 << 20) }
	e.logf("caches synced in %s: live heap %.1f MiB (highest while syncing %.1f MiB), %.1f MiB allocated",
		syncTime.Round(10*time.Millisecond), mib(synced.live-base.live), mib(syncPeak), mib(synced.alloc-base.alloc))
	e.logf("first pass %s (%d workloads written at 20/s, burst 40): %.1f MiB allocated, highest heap %.1f MiB, live after it %.1f MiB",
		firstTime.Round(10*time.Millisecond), first.Created, mib(after1.alloc-synced.alloc), mib(passPeak), mib(live1.live-base.live))
	e.logf("steady pass %s: %.1f MiB allocated, live after it %.1f MiB", steadyTime.Round(time.Millisecond), mib(after2.alloc-live1.alloc), mib(live2.live-base.live))
	e.logf("profiles: go tool pprof -sample_index=inuse_space -top %s; what the steady pass allocates: go tool pprof -sample_index=alloc_space -base %s -top %s",
		filepath.Join(profiles, "first-pass.pprof"), filepath.Join(profiles, "first-pass.pprof"), filepath.Join(profiles, "steady-pass.pprof"))
	b.ReportMetric(mib(synced.live-base.live), "cache-live-MiB")
	b.ReportMetric(mib(syncPeak), "sync-peak-heap-MiB")
	b.ReportMetric(mib(passPeak), "pass-peak-heap-MiB")
	b.ReportMetric(mib(after1.alloc-synced.alloc), "first-pass-alloc-MiB")
	b.ReportMetric(mib(after2.alloc-live1.alloc), "steady-pass-alloc-MiB")
	b.ReportMetric(mib(live2.live-base.live), "live-after-passes-MiB")
	b.ReportMetric(syncTime.Seconds(), "sync-s")
	b.ReportMetric(firstTime.Seconds(), "first-pass-s")
	b.ReportMetric(steadyTime.Seconds(), "steady-pass-s")
}

type heap struct{ live, objects, alloc uint64 }

// heapStats reads the heap: live is the heap's objects after the last GC
// (call runtime.GC first to make it current), objects what the heap holds
// now, alloc the bytes allocated so far.
func heapStats() heap {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return heap{live: s[0].Value.Uint64(), objects: s[1].Value.Uint64(), alloc: s[2].Value.Uint64()}
}

// heapWatch samples the heap's objects every 10 ms and keeps the highest.
type heapWatch struct {
	max  atomic.Uint64
	done chan struct{}
}

func watchHeap() *heapWatch {
	w := &heapWatch{done: make(chan struct{})}
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
			}
			if v := heapStats().objects; v > w.max.Load() {
				w.max.Store(v)
			}
		}
	}()
	return w
}

// take returns the highest since the last take and starts again.
func (w *heapWatch) take() uint64 {
	v := max(w.max.Swap(0), heapStats().objects)
	return v
}

func (w *heapWatch) stop() { close(w.done) }

func writeProfile(b *testing.B, path string) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(fmt.Errorf("%s: %w", path, err))
	}
}
