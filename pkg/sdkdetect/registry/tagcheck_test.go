package registry

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func TestTagNextToDigest(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	idx := fixture(t, r) // acme/api:1.4, an index
	repo := r.repo(t, "acme/api")
	var other string
	r.quiet(func() {
		other = pushImage(t, repo, "2.0", nil).Digest.String()
	})
	for _, tc := range []struct {
		name         string
		image        string
		wantVerified bool
		want         string
	}{
		{name: "tag points at the digest", image: r.host + "/acme/api:1.4@" + idx.Digest.String(), wantVerified: true},
		{
			name:  "tag points elsewhere",
			image: r.host + "/acme/api:2.0@" + idx.Digest.String(),
			want:  "the tag 2.0 points at " + other + ", not at the digest the pod names",
		},
		{
			name:  "tag missing",
			image: r.host + "/acme/api:9.9@" + idx.Digest.String(),
			want:  "the tag 9.9 does not exist in the registry, so it says nothing of the digest the pod names",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSource(t, Options{Timeout: 10 * time.Second})
			r.reset()
			ev := evidence(t, s, tc.image)
			// The digest's own evidence is read as ever.
			checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
			if ev.TagVerified != tc.wantVerified || ev.TagUnverified != tc.want {
				t.Errorf("TagVerified = %v, TagUnverified = %q\n                    want %v, %q", ev.TagVerified, ev.TagUnverified, tc.wantVerified, tc.want)
			}
			tagHEADs := func() int {
				return len(slices.DeleteFunc(r.requestLog(), func(l string) bool {
					return !strings.HasPrefix(l, "HEAD ") || !strings.Contains(l, "/manifests/"+ev.Ref.Tag)
				}))
			}
			if n := tagHEADs(); n != 1 {
				t.Errorf("%d HEADs of the tag, want 1: %q", n, r.requestLog())
			}
			// Cached: the same answer, without a request.
			r.reset()
			again := evidence(t, s, tc.image)
			if again.TagVerified != ev.TagVerified || again.TagUnverified != ev.TagUnverified {
				t.Errorf("cached: TagVerified = %v, TagUnverified = %q", again.TagVerified, again.TagUnverified)
			}
			if n := r.requests.Load(); n != 0 {
				t.Errorf("cached: %d requests: %q", n, r.requestLog())
			}
		})
	}
}

func TestTagOnlyIsNotVerified(t *testing.T) {
	// A tag without a digest is what the runtime pulls: nothing to confirm.
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	fixture(t, r)
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:1.4")
	if ev.TagVerified || ev.TagUnverified != "" {
		t.Errorf("TagVerified = %v, TagUnverified = %q", ev.TagVerified, ev.TagUnverified)
	}
}
