package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/singleflight"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// A reference with a tag and a digest ("coredns:v1.9.0@sha256:…") is
// pulled by its digest, whatever the tag says: the tag passes the image
// only once the registry confirms that it points at that digest. The
// tag's HEAD runs beside the digest's lookup, within the same budget, and
// its answer is cached as any tag's is (TagTTL; failures NegativeTTL).

// pinnedTag returns the tag of a reference that also names a digest.
func pinnedTag(ref name.Reference, r policy.ImageRef) (name.Tag, bool) {
	if r.Tag == "" || r.Digest == "" {
		return name.Tag{}, false
	}
	return ref.Context().Tag(r.Tag), true
}

// startTag begins resolving tag unless that is under way, detached from
// the caller as start's lookups are, and returns the channel of its record.
func (s *Source) startTag(tag name.Tag, c creds) <-chan singleflight.Result {
	key := c.scoped("tag " + refKey(tag))
	return s.flight.DoChan(key, func() (any, error) {
		if rec, ok := s.begin(tag); !ok {
			return rec, nil
		}
		defer s.untrack(tag.Context().RegistryStr())
		ctx, cancel := context.WithTimeout(s.base, s.opts.BackgroundTimeout)
		defer cancel()
		p, err := s.pullers.get(tag.Context().Registry, c)
		if err != nil {
			return s.failed(tag, err), nil
		}
		rec, _ := s.tagDigest(ctx, p, tag, c)
		if rec.unavailable != "" {
			s.opts.Logger.Warn("registry tag lookup failed", "tag", displayRef(tag), "reason", rec.reason, "error", rec.unavailable)
		}
		return rec, nil
	})
}

// tagDigest resolves tag to its digest and caches the answer (or the
// failure); pre is the manifest when the registry's HEAD was unusable and
// a GET was sent instead.
func (s *Source) tagDigest(ctx context.Context, p *remote.Puller, tag name.Tag, c creds) (*record, *remote.Descriptor) {
	key := refKey(tag)
	digest, pre, err := resolveTag(ctx, p, tag)
	if err != nil {
		if isAuthError(err) {
			s.pullers.drop(tag.Context().RegistryStr(), c, p)
		}
		rec := s.failed(tag, err)
		s.put(key, c, rec)
		return rec, nil
	}
	rec := &record{digest: digest, ttl: s.opts.TagTTL}
	s.put(key, c, rec)
	return rec, pre
}

// waitTag waits for the tag's record within b and says in ev whether the
// tag points at ev's digest. A tag still unresolved at the budget counts
// against it once per Evidence call (counted already when !counted).
func (s *Source) waitTag(b *budget, tag name.Tag, ch <-chan singleflight.Result, ev *policy.Evidence, notCounted bool) {
	host := tag.Context().RegistryStr()
	rec, _ := b.await(ch, host)
	if rec != nil {
		verifyTag(ev, rec)
		return
	}
	ev.TagUnverified = fmt.Sprintf("registry %s did not confirm within the review's time that the tag %s points at the digest the pod names; the next review of this image uses its answer", host, tag.TagStr())
	if notCounted {
		s.opts.Metrics.BudgetExceeded(s.hostLabel(host))
	}
}

// verifyTag fills ev's TagVerified or TagUnverified from the record of
// its tag.
func verifyTag(ev *policy.Evidence, rec *record) {
	tag := ev.Ref.Tag
	switch {
	case rec.unavailable != "" && rec.reason == ReasonNotFound:
		ev.TagUnverified = fmt.Sprintf("the tag %s does not exist in the registry, so it says nothing of the digest the pod names", tag)
	case rec.unavailable != "":
		ev.TagUnverified = fmt.Sprintf("the tag %s could not be checked against the digest the pod names: %s", tag, rec.unavailable)
	case rec.digest == ev.Ref.Digest:
		ev.TagVerified = true
	default:
		ev.TagUnverified = fmt.Sprintf("the tag %s points at %s, not at the digest the pod names", tag, rec.digest)
	}
}
