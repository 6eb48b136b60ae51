package imageevidence

import (
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// DefaultTTL is how long an ImageEvidence is kept after its digest was
// last seen running.
const DefaultTTL = 7 * 24 * time.Hour

// Current reports whether ie may be used under catalog cat at all: its
// status was written under cat's version. When not, it must not be used
// (its writer kept only the packages its own catalog knew, so a package
// cat matches may be missing) and must be refreshed: looked up again and
// written under cat.
func Current(ie *v1alpha1.ImageEvidence, cat *policy.Catalog) bool {
	return ie != nil && cat != nil && ie.Status.ObservedTime != nil &&
		ie.Status.CatalogVersion == cat.Version()
}

// Final reports whether ie is Current and complete, so that it may stand
// for a registry lookup of its digest: registry evidence was had
// (status.unavailable empty: an unavailable registry, a rate limit or a
// missing credential is provisional, and may differ for another
// repository or puller) and no layer scan stopped short
// (status.layersIncomplete empty). Evidence that is not final may be shown
// but not shared as the answer: a reader looks the image up itself, and
// the writer tries again.
//
// Final evidence may still grow stale: an SBOM may be attached to an image
// after its lookup (the registry source forgets "no SBOM" after
// registry.DefaultNoSBOMTTL), and tag answers (status.tags) are as of
// ObservedTime. Writers refresh those on their own schedule.
func Final(ie *v1alpha1.ImageEvidence, cat *policy.Catalog) bool {
	return Current(ie, cat) && ie.Status.Unavailable == "" && ie.Status.LayersIncomplete == ""
}

// Stale reports whether ie's digest has not been seen running for longer
// than ttl (DefaultTTL when ttl <= 0) at now, so that ie may be deleted.
// The time is status.lastSeenRunning, else status.observedTime, else the
// object's creation; an object with none of them is stale.
func Stale(ie *v1alpha1.ImageEvidence, now time.Time, ttl time.Duration) bool {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	t := lastSeen(ie)
	return t.IsZero() || now.Sub(t) > ttl
}

func lastSeen(ie *v1alpha1.ImageEvidence) time.Time {
	switch {
	case ie == nil:
		return time.Time{}
	case ie.Status.LastSeenRunning != nil && !ie.Status.LastSeenRunning.IsZero():
		return ie.Status.LastSeenRunning.Time
	case ie.Status.ObservedTime != nil && !ie.Status.ObservedTime.IsZero():
		return ie.Status.ObservedTime.Time
	}
	return ie.CreationTimestamp.Time
}

// MarkRunning records that ie's digest runs at now, moving
// status.lastSeenRunning forward only when it is older than every (so a
// writer updates each object at most once per every, far below the TTL);
// it reports whether it changed ie.
func MarkRunning(ie *v1alpha1.ImageEvidence, now time.Time, every time.Duration) bool {
	last := ie.Status.LastSeenRunning
	if last != nil && !last.IsZero() && now.Sub(last.Time) < every {
		return false
	}
	t := metav1.NewTime(now).Rfc3339Copy()
	ie.Status.LastSeenRunning = &t
	return true
}

// Merge returns stored brought up to date by fresh, a new lookup's
// ImageEvidence of the same digest: stored's metadata (its resourceVersion,
// for an update), fresh's findings, the images of both (fresh's first,
// within MaxImages), the tag answers of both (fresh's win, within MaxTags),
// and the later lastSeenRunning. A nil stored gives a copy of fresh.
// Neither argument is modified.
func Merge(stored, fresh *v1alpha1.ImageEvidence) *v1alpha1.ImageEvidence {
	out := fresh.DeepCopy()
	if stored == nil {
		return out
	}
	stored.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	for _, image := range stored.Spec.Images {
		if len(out.Spec.Images) >= v1alpha1.MaxImages {
			break
		}
		if !slices.Contains(out.Spec.Images, image) {
			out.Spec.Images = append(out.Spec.Images, image)
		}
	}
	for _, tc := range stored.Status.Tags {
		if len(out.Status.Tags) >= v1alpha1.MaxTags {
			break
		}
		known := false
		for _, ftc := range out.Status.Tags {
			known = known || ftc.Image == tc.Image
		}
		if !known {
			out.Status.Tags = append(out.Status.Tags, tc)
		}
	}
	if s := stored.Status.LastSeenRunning; s != nil && (out.Status.LastSeenRunning == nil || s.After(out.Status.LastSeenRunning.Time)) {
		out.Status.LastSeenRunning = s.DeepCopy()
	}
	return out
}
