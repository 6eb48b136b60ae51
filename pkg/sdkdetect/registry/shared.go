package registry

import (
	"time"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Shared is evidence kept outside the Source, by manifest digest, that
// every process reading the same store shares: the cluster's ImageEvidence
// objects (package imageevidence). A lookup that finds its digest there
// sends no further request for the image; a lookup that found everything
// it looked for offers its evidence to it. Implementations must be safe
// for concurrent use and must not block: both methods are called on the
// admission path.
type Shared interface {
	// Lookup returns the final evidence stored for the image with manifest
	// digest (labels, packages of SBOMs and layer scans, the SBOM source,
	// Layers when a scan was complete) and when it was observed; ok is
	// false when none may stand for a lookup. The caller does not modify
	// the result.
	Lookup(digest string) (ev *policy.Evidence, observed time.Time, ok bool)
	// Offer hands over the evidence of a complete lookup of digest (ev
	// names the image looked up) and reports whether it was taken (a
	// store not ready yet refuses, and is offered it again on the next
	// lookup). ev and what it holds must not be modified, nor kept past
	// the call unless copied.
	Offer(digest string, ev *policy.Evidence) bool
}

// shared returns the record of digest from Options.Shared, if it holds
// evidence as deep as this Source would find: with layer scanning on, an
// image without an SBOM (or every image, mode always) needs a complete
// scan; evidence without an SBOM older than NoSBOMTTL is looked up again,
// as cached records are, since an SBOM may have been attached since.
func (s *Source) shared(digest string) (*record, bool) {
	if s.opts.Shared == nil {
		return nil, false
	}
	ev, observed, ok := s.opts.Shared.Lookup(digest)
	if !ok || ev == nil || ev.Unavailable != "" || ev.LayersIncomplete != "" {
		return nil, false
	}
	if ev.SBOM == "" && s.opts.now().Sub(observed) > s.opts.NoSBOMTTL {
		return nil, false
	}
	if sc := s.scanner; sc != nil && ev.Layers == "" && (sc.opts.Mode == LayersAlways || ev.SBOM == "") {
		return nil, false
	}
	rec := &record{
		digest: digest, labels: ev.Labels, packages: ev.Packages, sbom: ev.SBOM,
		layers: ev.Layers, shared: true, ttl: s.opts.NoSBOMTTL,
	}
	if rec.sbom != "" {
		rec.ttl = 0
	}
	return rec, true
}

// offer hands ev, the evidence of rec's digest, to Options.Shared once it
// is complete: registry evidence was had and no layer scan is missing or
// under way. Each record is offered at most once.
func (s *Source) offer(rec *record, ev *policy.Evidence) {
	if s.opts.Shared == nil || rec == nil || rec.offered == nil || rec.digest == "" ||
		ev.Unavailable != "" || ev.LayersIncomplete != "" {
		return
	}
	if s.scanner.wants(rec) && ev.Layers == "" {
		return
	}
	if rec.offered.CompareAndSwap(false, true) && !s.opts.Shared.Offer(rec.digest, ev) {
		rec.offered.Store(false)
	}
}
