package registry

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// fixture pushes acme/api:1.4, a two-platform index with an SPDX referrer.
func fixture(t testing.TB, r *testRegistry) (idx v1.Descriptor) {
	t.Helper()
	repo := r.repo(t, "acme/api")
	r.quiet(func() {
		amd64 := platformDesc(pushImage(t, repo, "", map[string]string{"org.opencontainers.image.version": "1.4.0"}), "linux/amd64")
		arm64 := platformDesc(pushImage(t, repo, "", nil), "linux/arm64")
		idx = pushIndex(t, repo, "1.4", amd64, arm64)
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &idx,
			layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14)}},
		})
	})
	return idx
}

// fakeClock is a settable clock for TTL tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCacheHitNeedsNoRequests(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	idx := fixture(t, r)
	s := newSource(t, Options{Timeout: 10 * time.Second})
	first := evidence(t, s, r.host+"/acme/api:1.4")
	checkEvidence(t, first, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	cold := r.requests.Load()
	r.reset()

	for _, image := range []string{r.host + "/acme/api:1.4", r.host + "/acme/api@" + idx.Digest.String(), r.host + "/acme/api:1.4@" + idx.Digest.String()} {
		ev := evidence(t, s, image)
		checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
		if ev.Ref.Original != image {
			t.Errorf("Ref.Original = %q, want %q", ev.Ref.Original, image)
		}
	}
	if n := r.requests.Load(); n != 0 {
		t.Errorf("warm lookups sent %d requests: %q", n, r.requestLog())
	}
	t.Logf("cold lookup: %d requests", cold)

	// Another tag of the same digest costs one HEAD.
	r.quiet(func() { pushIndexTag(t, r, idx, "latest") })
	ev := evidence(t, s, r.host+"/acme/api:latest")
	checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	if log := r.requestLog(); len(log) != 1 || !strings.HasPrefix(log[0], "HEAD ") {
		t.Errorf("a new tag of a known digest: requests %q, want one HEAD", log)
	}
}

// pushIndexTag tags the index idx of acme/api as tag.
func pushIndexTag(t testing.TB, r *testRegistry, idx v1.Descriptor, tag string) {
	t.Helper()
	repo := r.repo(t, "acme/api")
	d, err := remoteGet(repo.Digest(idx.Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := remotePut(repo.Tag(tag), d); err != nil {
		t.Fatal(err)
	}
}

func TestTagTTL(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	fixture(t, r)
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	s := newSource(t, Options{Timeout: 10 * time.Second, TagTTL: time.Minute, now: clock.now})
	evidence(t, s, r.host+"/acme/api:1.4")
	r.reset()

	clock.advance(59 * time.Second)
	evidence(t, s, r.host+"/acme/api:1.4")
	if n := r.requests.Load(); n != 0 {
		t.Errorf("within TagTTL: %d requests", n)
	}
	clock.advance(2 * time.Second)
	ev := evidence(t, s, r.host+"/acme/api:1.4")
	checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	if log := r.requestLog(); len(log) != 1 || !strings.HasPrefix(log[0], "HEAD ") {
		t.Errorf("after TagTTL: requests %q, want one HEAD", log)
	}
}

func TestSingleflight(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	fixture(t, r)
	image := r.host + "/acme/api:1.4"

	evidence(t, newSource(t, Options{Timeout: 10 * time.Second}), image)
	cold := r.requests.Load()
	r.reset()

	s := newSource(t, Options{Timeout: 10 * time.Second})
	const n = 32
	var wg sync.WaitGroup
	evs := make([]*policy.Evidence, n)
	for i := range n {
		wg.Go(func() { evs[i] = evidence(t, s, image) })
	}
	wg.Wait()
	for _, ev := range evs {
		checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	}
	if got := r.requests.Load(); got != cold {
		t.Errorf("%d concurrent lookups sent %d requests, one lookup sends %d: %q", n, got, cold, r.requestLog())
	}
}

// slowHandler delays every request by d, except while pushing.
func slowRegistry(t *testing.T, d time.Duration) *testRegistry {
	var r *testRegistry
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))
	r = serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.counting.Load() {
			select {
			case <-time.After(d):
			case <-req.Context().Done():
				return
			}
		}
		inner.ServeHTTP(w, req)
	}))
	return r
}

func TestSlowRegistryBudget(t *testing.T) {
	r := slowRegistry(t, 300*time.Millisecond)
	fixture(t, r)
	var exceeded atomic.Int64
	s := newSource(t, Options{Timeout: 200 * time.Millisecond, Metrics: budgetCounter{n: &exceeded}})
	image := r.host + "/acme/api:1.4"

	begin := time.Now()
	ev := s.Evidence(context.Background(), policy.Puller{}, image)
	took := time.Since(begin)
	if took > 200*time.Millisecond+300*time.Millisecond {
		t.Errorf("Evidence took %v with a 200ms budget", took)
	}
	want := "registry " + r.host + " did not answer within 200ms; the lookup goes on in the background and the next review of this image uses its result"
	if ev.Unavailable != want || ev.SBOM != "" || ev.Ref.Tag != "1.4" {
		t.Errorf("evidence = %+v, want tag evidence with Unavailable %q", ev, want)
	}
	if exceeded.Load() != 1 {
		t.Errorf("BudgetExceeded called %d times", exceeded.Load())
	}

	// The lookup went on in the background and fills the cache.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ev = s.Evidence(context.Background(), policy.Puller{}, image)
		if ev.Unavailable == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the background lookup did not fill the cache: %+v", ev)
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
}

func TestContextDeadlineBeforeBudget(t *testing.T) {
	r := slowRegistry(t, 2*time.Second)
	fixture(t, r)
	s := newSource(t, Options{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	ev := s.Evidence(ctx, policy.Puller{}, r.host+"/acme/api:1.4")
	if took := time.Since(begin); took > 600*time.Millisecond {
		t.Errorf("Evidence took %v with a 100ms deadline", took)
	}
	if !strings.HasPrefix(ev.Unavailable, "registry "+r.host+" did not answer within ") {
		t.Errorf("Unavailable = %q", ev.Unavailable)
	}
}

func TestCloseStopsBackgroundLookups(t *testing.T) {
	r := slowRegistry(t, 5*time.Second)
	fixture(t, r)
	s := New(Options{Timeout: 50 * time.Millisecond, InsecureRegistries: testRegistries, Logger: discardSlog, Keychain: anonymous{}})
	s.Evidence(context.Background(), policy.Puller{}, r.host+"/acme/api:1.4")
	begin := time.Now()
	s.Close()
	if took := time.Since(begin); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	ev := s.Evidence(context.Background(), policy.Puller{}, r.host+"/acme/api:1.4")
	if ev.Unavailable == "" {
		t.Errorf("after Close: %+v", ev)
	}
}

func TestPrefetch(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	fixture(t, r)
	s := newSource(t, Options{Timeout: 10 * time.Second})
	image := r.host + "/acme/api:1.4"
	s.Prefetch(context.Background(), policy.Puller{}, image, "not a reference")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := s.cached(mustParse(t, s, image), creds{}); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prefetch did not fill the cache")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.reset()
	checkEvidence(t, evidence(t, s, image), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	if n := r.requests.Load(); n != 0 {
		t.Errorf("after Prefetch: %d requests", n)
	}
}

func TestInvalidReference(t *testing.T) {
	s := newSource(t, Options{})
	// "UPPER/case:tag" is valid: Docker reads an uppercase first
	// component as a registry host. An uppercase repository is not.
	ev := s.Evidence(context.Background(), policy.Puller{}, "ghcr.io/Acme/api:1")
	if want := `the image reference is invalid: repository "Acme/api" must be lowercase`; ev.Unavailable != want {
		t.Errorf("Unavailable = %q, want %q", ev.Unavailable, want)
	}
}

func TestCacheBounds(t *testing.T) {
	c := newCache(3, 1<<20, time.Now)
	for _, k := range []string{"a", "b", "c", "d"} {
		c.add(k, &record{sbom: k})
	}
	if _, ok := c.get("a"); ok {
		t.Error("a should have been evicted by entries")
	}
	if n, _ := c.stats(); n != 3 {
		t.Errorf("entries = %d", n)
	}
	big := &record{packages: make([]policy.Package, 2000)}
	c = newCache(100, 64<<10, time.Now)
	c.add("x", &record{})
	c.add("big", big) // above the byte bound by itself: not kept
	if _, ok := c.get("big"); ok {
		t.Error("a record above the byte bound was kept")
	}
	for i := range 100 {
		c.add(strings.Repeat("k", i+1), &record{packages: make([]policy.Package, 20)})
	}
	if _, b := c.stats(); b > 64<<10 {
		t.Errorf("bytes = %d above the bound", b)
	}
}

// TestCacheLRU: the least recently used entry goes first, a get refreshes
// an entry, replacing a key keeps one entry, a record added under a second
// key is copied (the first stays linked), and expired entries are gone.
func TestCacheLRU(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newCache(3, 1<<20, func() time.Time { return now })
	keys := func() []string {
		var ks []string
		for r := c.head; r != nil; r = r.next {
			ks = append(ks, r.key)
		}
		// The list must read the same backwards.
		var back []string
		for r := c.tail; r != nil; r = r.prev {
			back = append([]string{r.key}, back...)
		}
		if !slices.Equal(ks, back) {
			t.Fatalf("list forwards %v, backwards %v", ks, back)
		}
		return ks
	}
	for _, k := range []string{"a", "b", "c"} {
		c.add(k, &record{sbom: k})
	}
	if got := keys(); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("order %v", got)
	}
	if r, ok := c.get("a"); !ok || r.sbom != "a" {
		t.Fatalf("get a = %v, %v", r, ok)
	}
	c.add("d", &record{sbom: "d"}) // evicts b, the least recently used
	if got := keys(); !slices.Equal(got, []string{"d", "a", "c"}) {
		t.Fatalf("after get a and add d: %v", got)
	}
	c.add("c", &record{sbom: "c2"}) // replaces c
	if r, _ := c.get("c"); r == nil || r.sbom != "c2" || len(c.items) != 3 {
		t.Fatalf("replaced c: %v, %d items", r, len(c.items))
	}
	shared := &record{sbom: "shared"}
	c.add("x", shared)
	c.add("y", shared)
	if got := keys(); !slices.Equal(got, []string{"y", "x", "c"}) {
		t.Fatalf("one record under two keys: %v", got)
	}
	c.drop("y")
	if r, ok := c.get("x"); !ok || r.sbom != "shared" {
		t.Fatalf("x after dropping y: %v %v", r, ok)
	}
	c.add("ttl", &record{sbom: "ttl", ttl: time.Minute})
	if _, ok := c.get("ttl"); !ok {
		t.Fatal("ttl entry missing before it expires")
	}
	now = now.Add(time.Minute)
	if _, ok := c.get("ttl"); ok {
		t.Fatal("ttl entry still there when it expires")
	}
	if got := keys(); slices.Contains(got, "ttl") || len(got) != len(c.items) {
		t.Fatalf("after expiry: list %v, %d items", got, len(c.items))
	}
}

// TestRegistriesAllowList: an image outside Options.Registries gets tag
// evidence with the reason, and no request reaches any registry.
func TestRegistriesAllowList(t *testing.T) {
	reg := newTestRegistry(t)
	repo := reg.repo(t, "acme/api")
	pushImage(t, repo, "1.4", nil)
	reg.reset()
	s := newSource(t, Options{Registries: []string{"registry.example.com"}})
	ev := s.Evidence(context.Background(), policy.Puller{}, repo.Tag("1.4").String())
	if ev.Unavailable != reasonNotListed || len(reg.requestLog()) != 0 {
		t.Errorf("unavailable %q, requests %v", ev.Unavailable, reg.requestLog())
	}
	s.Prefetch(context.Background(), policy.Puller{}, repo.Tag("1.4").String())
	if len(reg.requestLog()) != 0 {
		t.Errorf("Prefetch sent requests: %v", reg.requestLog())
	}
	allowed := newSource(t, Options{Registries: []string{repo.RegistryStr()}})
	if ev := allowed.Evidence(context.Background(), policy.Puller{}, repo.Tag("1.4").String()); ev.Unavailable != "" {
		t.Errorf("listed registry: %q", ev.Unavailable)
	}
}

// TestHangingRegistryBoundsLookups: while a registry hangs, each new image
// would start a lookup that outlives its review by up to
// BackgroundTimeout. Past MaxLookupsPerRegistry the review answers
// without starting one, saying why, and goroutines stop growing; once the
// lookups end, images are looked up again.
func TestHangingRegistryBoundsLookups(t *testing.T) {
	r := slowRegistry(t, time.Hour)
	s := newSource(t, Options{Timeout: 20 * time.Millisecond, BackgroundTimeout: 3 * time.Second, MaxLookupsPerRegistry: 10})
	before := runtime.NumGoroutine()
	var busy int
	for i := range 200 {
		ev := s.Evidence(context.Background(), policy.Puller{}, fmt.Sprintf("%s/acme/api:1.%d", r.host, i))
		if strings.Contains(ev.Unavailable, "lookups under way already") {
			busy++
		}
	}
	if busy < 180 {
		t.Errorf("%d of 200 reviews were told the registry is busy, want at least 180 (10 lookups at most)", busy)
	}
	if grown := runtime.NumGoroutine() - before; grown > 150 {
		t.Errorf("%d goroutines more with 10 lookups under way", grown)
	}
	// Once the lookups ran out of time, new ones start.
	time.Sleep(3500 * time.Millisecond)
	ev := s.Evidence(context.Background(), policy.Puller{}, r.host+"/acme/api:2.0")
	if strings.Contains(ev.Unavailable, "lookups under way already") {
		t.Errorf("still busy after the lookups ended: %q", ev.Unavailable)
	}
}
