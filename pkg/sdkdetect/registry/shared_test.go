package registry

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// memShared is a Shared in memory: what the cluster's ImageEvidence
// objects are to the replicas reading them.
type memShared struct {
	mu     sync.Mutex
	ev     map[string]*policy.Evidence
	seen   map[string]time.Time
	offers []string // digests, in offer order
}

func (m *memShared) Lookup(digest string) (*policy.Evidence, time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev, ok := m.ev[digest]
	return ev, m.seen[digest], ok
}

func (m *memShared) Offer(digest string, ev *policy.Evidence) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ev == nil {
		m.ev, m.seen = map[string]*policy.Evidence{}, map[string]time.Time{}
	}
	cp := *ev
	m.ev[digest], m.seen[digest] = &cp, time.Now()
	m.offers = append(m.offers, digest)
	return true
}

func (m *memShared) offered() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.offers...)
}

// TestSharedEvidenceAcrossSources: what one Source found completely is
// offered once, with its digest; another Source reading the same store
// answers the digest with no registry request, and a tag of it with one
// HEAD (tags move: each process resolves them itself).
func TestSharedEvidenceAcrossSources(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	idx := fixture(t, r)
	store := &memShared{}
	a := newSource(t, Options{Timeout: 10 * time.Second, Shared: store})
	first := evidence(t, a, r.host+"/acme/api:1.4")
	checkEvidence(t, first, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	if first.Digest != idx.Digest.String() {
		t.Errorf("Digest = %q, want the index digest %s", first.Digest, idx.Digest)
	}
	evidence(t, a, r.host+"/acme/api@"+idx.Digest.String())
	if got := store.offered(); len(got) != 1 || got[0] != idx.Digest.String() {
		t.Fatalf("offers %q, want one of %s", got, idx.Digest)
	}

	r.reset()
	b := newSource(t, Options{Timeout: 10 * time.Second, Shared: store})
	ev := evidence(t, b, r.host+"/acme/api@"+idx.Digest.String())
	checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	if n := r.requests.Load(); n != 0 {
		t.Errorf("a digest in the shared store: %d requests %q, want none", n, r.requestLog())
	}
	if ev.Digest != idx.Digest.String() || ev.Labels["org.opencontainers.image.version"] != "1.4.0" {
		t.Errorf("evidence from the store: digest %q, labels %v", ev.Digest, ev.Labels)
	}
	c := newSource(t, Options{Timeout: 10 * time.Second, Shared: store})
	checkEvidence(t, evidence(t, c, r.host+"/acme/api:1.4"), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	if log := r.requestLog(); len(log) != 1 || !strings.HasPrefix(log[0], "HEAD ") {
		t.Errorf("a tag of a shared digest: requests %q, want one HEAD", log)
	}
	if got := store.offered(); len(got) != 1 {
		t.Errorf("evidence taken from the store was offered back: %q", got)
	}
}

// TestSharedEvidenceDepth: a Source that scans layers does not take
// evidence without an SBOM that no complete scan backs, nor evidence
// without an SBOM older than NoSBOMTTL; it takes a complete scan's.
func TestSharedEvidenceDepth(t *testing.T) {
	r := newTestRegistry(t)
	repo := r.repo(t, "acme/plain")
	var digest string
	r.quiet(func() { digest = pushImage(t, repo, "1.0", nil).Digest.String() })
	image := r.host + "/acme/plain@" + digest
	layerPkg := policy.Package{Type: "npm", Namespace: "@kubernetes", Name: "client-node", Version: "0.10.2", Source: "layer:npm-package", File: "/app/node_modules/@kubernetes/client-node/package.json"}

	for _, tc := range []struct {
		name     string
		ev       *policy.Evidence
		age      time.Duration
		requests bool
	}{
		{"no scan behind it", &policy.Evidence{}, 0, true},
		{"a complete scan", &policy.Evidence{Layers: policy.SourceLayers, Packages: []policy.Package{layerPkg}}, 0, false},
		{"a complete scan, older than NoSBOMTTL", &policy.Evidence{Layers: policy.SourceLayers, Packages: []policy.Package{layerPkg}}, time.Hour, true},
		{"a scan that stopped short", &policy.Evidence{LayersIncomplete: "the scan stopped after 2 GiB of compressed layers"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &memShared{ev: map[string]*policy.Evidence{digest: tc.ev}, seen: map[string]time.Time{digest: time.Now().Add(-tc.age)}}
			s := newSource(t, Options{Timeout: 10 * time.Second, Shared: store, Layers: LayerOptions{Mode: LayersAuto, Wait: true}})
			r.reset()
			ev := evidence(t, s, image)
			if got := r.requests.Load() > 0; got != tc.requests {
				t.Fatalf("requests %q; want requests: %v", r.requestLog(), tc.requests)
			}
			if tc.requests {
				// Looked up and scanned itself: its own complete evidence
				// replaces the store's.
				if ev.Layers != policy.SourceLayers || len(store.offered()) != 1 {
					t.Errorf("own lookup: layers %q, offers %q", ev.Layers, store.offered())
				}
				return
			}
			if ev.Layers != policy.SourceLayers || len(ev.Packages) != 1 || ev.Packages[0] != layerPkg || len(store.offered()) != 0 {
				t.Errorf("from the store: layers %q, packages %+v, offers %q", ev.Layers, ev.Packages, store.offered())
			}
		})
	}
}
