package registry

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// BenchmarkColdLookup measures a lookup with an empty cache (a new Source
// each time, so the registry is pinged again) of a two-platform index with
// one SPDX referrer, and reports its HTTP round trips.
func BenchmarkColdLookup(b *testing.B) {
	r := newTestRegistry(b, registry.WithReferrersSupport(true))
	fixture(b, r)
	image := r.host + "/acme/api:1.4"
	ctx := context.Background()
	r.reset()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s := New(Options{Timeout: 10 * time.Second, Logger: discardSlog, Keychain: anonymous{}, Keep: keepCatalogued})
		if ev := s.Evidence(ctx, nil, image); ev.SBOM == "" {
			b.Fatalf("no SBOM: %+v", ev)
		}
		s.Close()
		n++
	}
	b.ReportMetric(float64(r.requests.Load())/float64(n), "round-trips/op")
}

// BenchmarkWarmLookup measures a cached lookup: no network.
func BenchmarkWarmLookup(b *testing.B) {
	r := newTestRegistry(b, registry.WithReferrersSupport(true))
	fixture(b, r)
	image := r.host + "/acme/api:1.4"
	ctx := context.Background()
	s := newSource(b, Options{Timeout: 10 * time.Second})
	s.Evidence(ctx, nil, image)
	r.reset()
	b.ReportAllocs()
	for b.Loop() {
		if ev := s.Evidence(ctx, nil, image); ev.SBOM == "" {
			b.Fatalf("no SBOM: %+v", ev)
		}
	}
	if n := r.requests.Load(); n != 0 {
		b.Fatalf("warm lookups sent %d requests", n)
	}
}
