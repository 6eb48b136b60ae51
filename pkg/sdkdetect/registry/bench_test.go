package registry

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tokenguard/tokenguard/pkg/policy"
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
		s := New(Options{Timeout: 10 * time.Second, InsecureRegistries: testRegistries, Logger: discardSlog, Keychain: anonymous{}, Keep: keepCatalogued})
		if ev := s.Evidence(ctx, policy.Puller{}, image); ev.SBOM == "" {
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
	s.Evidence(ctx, policy.Puller{}, image)
	r.reset()
	b.ReportAllocs()
	for b.Loop() {
		if ev := s.Evidence(ctx, policy.Puller{}, image); ev.SBOM == "" {
			b.Fatalf("no SBOM: %+v", ev)
		}
	}
	if n := r.requests.Load(); n != 0 {
		b.Fatalf("warm lookups sent %d requests", n)
	}
}

// delayTransport adds a fixed latency to every round trip, as a registry
// far away would.
type delayTransport struct {
	rt    http.RoundTripper
	delay time.Duration
}

func (d delayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case <-time.After(d.delay):
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return d.rt.RoundTrip(req)
}

// BenchmarkColdLookupDistance measures the sequential depth of a cold
// lookup (a new Source each time) of a two-platform index with one SPDX
// referrer, named by tag and by tag and digest, 25 ms away: the time of a
// lookup divided by 25 ms is the number of round trips one after another.
// "tag" and "tag-and-digest" read an insecure registry (plain HTTP, which
// the Source tries beside HTTPS until it answers); the "https-" cases a
// registry over TLS, as most are. The "bearer-" cases read an insecure
// registry that wants a token from its token server for every request
// (as Docker Hub does): "bearer-tag" knows nothing of it, "bearer-tag-
// known-host" has looked up another repository of it first (untimed), so
// that the Source knows where its tokens come from.
func BenchmarkColdLookupDistance(b *testing.B) {
	const rtt = 25 * time.Millisecond
	plain := newTestRegistry(b, registry.WithReferrersSupport(true))
	plainIdx := fixture(b, plain)
	tlsReg := newTLSRegistry(b, registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog)))
	var tlsIdx v1.Descriptor
	func() {
		old := remote.DefaultTransport
		remote.DefaultTransport = tlsReg.srv.Client().Transport
		defer func() { remote.DefaultTransport = old }()
		tlsIdx = fixture(b, tlsReg)
	}()
	bearer := newBearerRegistry(b, "", "")
	fixture(b, bearer.testRegistry)
	bearer.quiet(func() { pushImage(b, bearer.repo(b, "acme/web"), "2.0", nil) })
	bearer.locked.Store(true)
	plainTr := http.DefaultTransport.(*http.Transport).Clone()
	plainTr.Proxy = nil
	tlsTr := tlsReg.srv.Client().Transport.(*http.Transport).Clone()
	tlsTr.Proxy = nil
	for _, bc := range []struct {
		name, image string
		r           *testRegistry
		opts        Options
		// first is looked up before image, untimed.
		first string
	}{
		{name: "tag", image: plain.host + "/acme/api:1.4", r: plain, opts: Options{InsecureRegistries: testRegistries, Transport: delayTransport{rt: plainTr, delay: rtt}}},
		{name: "tag-and-digest", image: plain.host + "/acme/api:1.4@" + plainIdx.Digest.String(), r: plain, opts: Options{InsecureRegistries: testRegistries, Transport: delayTransport{rt: plainTr, delay: rtt}}},
		{name: "https-tag", image: tlsReg.host + "/acme/api:1.4", r: tlsReg, opts: Options{Registries: []string{tlsReg.host}, Transport: delayTransport{rt: tlsTr, delay: rtt}}},
		{name: "https-tag-and-digest", image: tlsReg.host + "/acme/api:1.4@" + tlsIdx.Digest.String(), r: tlsReg, opts: Options{Registries: []string{tlsReg.host}, Transport: delayTransport{rt: tlsTr, delay: rtt}}},
		{name: "bearer-tag", image: bearer.host + "/acme/api:1.4", r: bearer.testRegistry, opts: Options{InsecureRegistries: testRegistries, Transport: delayTransport{rt: plainTr, delay: rtt}}},
		{
			name: "bearer-tag-known-host", image: bearer.host + "/acme/api:1.4", r: bearer.testRegistry,
			opts:  Options{InsecureRegistries: testRegistries, Transport: delayTransport{rt: plainTr, delay: rtt}},
			first: bearer.host + "/acme/web:2.0",
		},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			n, requests := 0, int64(0)
			var took time.Duration
			for b.Loop() {
				o := bc.opts
				o.Timeout, o.Logger, o.Keychain, o.Keep = 10*time.Second, discardSlog, anonymous{}, keepCatalogued
				s := New(o)
				if bc.first != "" {
					if ev := s.Evidence(ctx, policy.Puller{}, bc.first); ev.Unavailable != "" {
						b.Fatalf("%s: %s", bc.first, ev.Unavailable)
					}
				}
				before := bc.r.requests.Load()
				begin := time.Now()
				if ev := s.Evidence(ctx, policy.Puller{}, bc.image); ev.SBOM == "" {
					b.Fatalf("no SBOM: %+v", ev)
				}
				took += time.Since(begin)
				requests += bc.r.requests.Load() - before
				s.Close()
				// A new connection (and TLS handshake) each time, as a
				// new Source would open.
				o.Transport.(delayTransport).rt.(*http.Transport).CloseIdleConnections()
				n++
			}
			b.ReportMetric(float64(took)/float64(n)/float64(rtt), "depth/op")
			b.ReportMetric(float64(requests)/float64(n), "requests/op")
		})
	}
}
