package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestHugeIndexCostsFewRequests(t *testing.T) {
	const platforms = 10000
	// The in-memory registry refuses an index of manifests it does not
	// hold: the index is served beside it.
	var index []byte
	var indexDigest v1.Hash
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))
	r := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if index != nil && (req.URL.Path == "/v2/acme/big/manifests/1.4" || req.URL.Path == "/v2/acme/big/manifests/"+indexDigest.String()) {
			w.Header().Set("Content-Type", string(types.OCIImageIndex))
			w.Header().Set("Docker-Content-Digest", indexDigest.String())
			w.Header().Set("Content-Length", fmt.Sprint(len(index)))
			if req.Method == http.MethodGet {
				w.Write(index)
			}
			return
		}
		inner.ServeHTTP(w, req)
	}))
	repo := r.repo(t, "acme/big")
	r.quiet(func() {
		first := platformDesc(pushImage(t, repo, "", map[string]string{"org.opencontainers.image.version": "1.4.0"}), "linux/amd64")
		descs := []v1.Descriptor{first}
		for i := 1; i < platforms; i++ {
			// Manifests that were never pushed: reading them would 404.
			sum := sha256.Sum256(fmt.Appendf(nil, "platform %d", i))
			descs = append(descs, v1.Descriptor{
				MediaType: types.OCIManifestSchema1, Size: 500,
				Digest:   v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)},
				Platform: &v1.Platform{OS: "linux", Architecture: fmt.Sprintf("arch%d", i)},
			})
		}
		b, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: descs})
		if err != nil {
			t.Fatal(err)
		}
		if indexDigest, _, err = v1.SHA256(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		index = b
	})
	t.Logf("the index has %d bytes", len(index))
	var requests countingMetrics
	s := newSource(t, Options{Timeout: 30 * time.Second, Metrics: &requests})
	ev := evidence(t, s, r.host+"/acme/big:1.4")
	if ev.Unavailable != "" {
		t.Fatalf("Unavailable = %q", ev.Unavailable)
	}
	if ev.Labels["org.opencontainers.image.version"] != "1.4.0" {
		t.Errorf("Labels = %v", ev.Labels)
	}
	// The tag (over https and http at once: the registry is insecure),
	// the index, the first platform's manifest and config, and three
	// probes (referrers, .sbom, .att) of the index and of each of the
	// DefaultMaxPlatforms platforms read.
	limit := int64(5 + 3*(1+DefaultMaxPlatforms))
	n := requests.n.Load()
	t.Logf("an index of %d platforms: %d requests", platforms, n)
	if n > limit {
		t.Errorf("%d requests, want at most %d", n, limit)
	}
}
