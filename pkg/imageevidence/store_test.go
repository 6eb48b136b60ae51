package imageevidence

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/tokenguard/tokenguard/deploy/crds"
	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// writeCounter counts a Store's write outcomes.
type writeCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (w *writeCounter) add(outcome string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == nil {
		w.n = map[string]int{}
	}
	w.n[outcome]++
}

func (w *writeCounter) get(outcome string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n[outcome]
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStore runs two Stores (two replicas) against a real API server:
// without the CRD they answer nothing and write nothing; once it is
// installed they find it by themselves; an offer by one is what the other
// looks up, as the evidence that was offered; a repeated offer is not
// written; a new image of the digest is; a store under another catalog
// does not take the evidence; evidence of running digests outlives the
// TTL, the rest is deleted.
func TestStore(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	cat := defaultCatalog(t)
	var clock struct {
		sync.Mutex
		t time.Time
	}
	clock.t = time.Now()
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.t }
	var writesA, writesB writeCounter
	a := NewStore(dyn, cat, StoreOptions{Retry: 100 * time.Millisecond, WriteQPS: 100, WriteBurst: 100, OnWrite: writesA.add, Now: now})
	b := NewStore(dyn, cat, StoreOptions{Retry: 100 * time.Millisecond, WriteQPS: 100, WriteBurst: 100, OnWrite: writesB.add, Now: now})
	a.Start(ctx)
	b.Start(ctx)

	ref := mustRef(t, "ghcr.io/acme/api:1.4")
	ev := &policy.Evidence{
		Ref: ref, SBOM: "sbom:spdx-referrer", Digest: digestA,
		Labels: map[string]string{"org.opencontainers.image.version": "1.4.0"},
		Packages: []policy.Package{
			{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", Source: "sbom:spdx-referrer"},
			{Type: "golang", Name: "github.com/acme/uncatalogued", Version: "v1.0.0", Source: "sbom:spdx-referrer"},
		},
	}

	// No CRD: off, nothing answered, offers dropped without a request.
	time.Sleep(300 * time.Millisecond)
	if a.Enabled() {
		t.Fatal("enabled without the CRD")
	}
	a.Offer(digestA, ev)
	if _, _, ok := a.Lookup(digestA); ok {
		t.Fatal("answered without the CRD")
	}

	if err := c.InstallCRD(ctx, crds.ImageEvidenceYAML); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both stores to find the CRD", 30*time.Second, func() bool { return a.Enabled() && b.Enabled() })

	// An offer by a is written and is what b looks up.
	a.Offer(digestA, ev)
	var got *policy.Evidence
	waitFor(t, "b to see a's evidence", 20*time.Second, func() bool {
		got, _, _ = b.Lookup(digestA)
		return got != nil
	})
	want := cat.Evaluate(podFor("ghcr.io/acme/api:1.4", true, 0), []*policy.Evidence{ev}, policy.Options{})
	have := cat.Evaluate(podFor("ghcr.io/acme/api:1.4", true, 0), []*policy.Evidence{{Ref: ref, Labels: got.Labels, Packages: got.Packages, SBOM: got.SBOM, Layers: got.Layers}}, policy.Options{})
	if len(want) == 0 || !sameVerdicts(want, have) {
		t.Errorf("findings from the shared evidence differ:\n got %+v\nwant %+v", have, want)
	}
	if len(got.Packages) != 1 || got.Packages[0].Name != "client-go" || got.Digest != digestA {
		t.Errorf("shared evidence holds %+v (digest %s): want the catalogued package only", got.Packages, got.Digest)
	}
	stored := b.Get(digestA)
	if stored.Status.ObservedTime == nil || stored.Status.CatalogVersion != cat.Version() || stored.Status.Summary == "" {
		t.Errorf("stored status %+v", stored.Status)
	}
	if writesA.get(WriteCreated) != 1 {
		t.Errorf("a's writes: %+v", writesA.n)
	}

	// The same offer from b: nothing written. A new image of the digest:
	// spec.images grows.
	waitFor(t, "a's informer", 10*time.Second, func() bool { return a.Get(digestA) != nil })
	b.Offer(digestA, ev)
	waitFor(t, "b's unchanged offer", 10*time.Second, func() bool { return writesB.get(WriteUnchanged) == 1 })
	other := *ev
	other.Ref = mustRef(t, "mirror.example.com/acme/api:1.4")
	b.Offer(digestA, &other)
	waitFor(t, "the second image", 10*time.Second, func() bool {
		ie := a.Get(digestA)
		return ie != nil && len(ie.Spec.Images) == 2
	})

	// Another catalog (a configured minimum): its version differs, so the
	// evidence is not taken.
	conf, err := config.Parse([]byte("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\ncatalog:\n  minimums: {k8s.io/client-go: v0.16.1}\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	otherCat, err := conf.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	c2 := NewStore(dyn, otherCat, StoreOptions{})
	c2.Start(ctx)
	waitFor(t, "the third store", 20*time.Second, c2.Enabled)
	if _, _, ok := c2.Lookup(digestA); ok {
		t.Error("a store under another catalog took the evidence")
	}

	// Evidence not final (a layer scan stopped short) is stored but not
	// taken.
	partial := &policy.Evidence{Ref: mustRef(t, "ghcr.io/acme/worker:2"), Digest: digestB, LayersIncomplete: "the scan stopped after 2 GiB of compressed layers"}
	a.Offer(digestB, partial)
	waitFor(t, "the partial evidence", 10*time.Second, func() bool { return b.Get(digestB) != nil })
	if _, _, ok := b.Lookup(digestB); ok {
		t.Error("incomplete evidence was taken as final")
	}

	// TTL: 8 days later, digestA runs (lastSeenRunning moves), digestB does
	// not: it is deleted, digestA stays.
	clock.Lock()
	clock.t = clock.t.Add(8 * 24 * time.Hour)
	clock.Unlock()
	if n, err := a.MarkRunning(ctx, []string{digestA, "sha256:" + strings.Repeat("c", 64)}, time.Hour); err != nil || n != 1 {
		t.Fatalf("MarkRunning = %d, %v; want 1 written", n, err)
	}
	waitFor(t, "lastSeenRunning", 10*time.Second, func() bool {
		ie := a.Get(digestA)
		return ie != nil && ie.Status.LastSeenRunning != nil && now().Sub(ie.Status.LastSeenRunning.Time) < time.Minute
	})
	if n, err := a.DeleteStale(ctx, map[string]bool{}, 0); err != nil || n != 1 {
		t.Fatalf("DeleteStale = %d, %v; want 1 deleted", n, err)
	}
	if _, err := dyn.Resource(v1alpha1.ImageEvidenceResource).Get(ctx, v1alpha1.ObjectName(digestB), metav1.GetOptions{}); err == nil {
		t.Error("the stale ImageEvidence is still there")
	}
	if _, err := dyn.Resource(v1alpha1.ImageEvidenceResource).Get(ctx, v1alpha1.ObjectName(digestA), metav1.GetOptions{}); err != nil {
		t.Errorf("the running image's evidence: %v", err)
	}
}

func sameVerdicts(a, b []policy.Finding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Verdict != b[i].Verdict || a[i].Component != b[i].Component || a[i].Version != b[i].Version {
			return false
		}
	}
	return true
}
