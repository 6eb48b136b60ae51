package imageevidence

import (
	"maps"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// reasonTooLong is the status.unavailable reason of evidence with a
// catalogued package or version label too long to store: the stored
// evidence leaves it out, so it is not final and readers look the image up
// themselves.
const reasonTooLong = "a catalogued package or version label of the image is longer than an ImageEvidence stores; look the image up directly"

// FromEvidence returns the ImageEvidence of the image with manifest digest
// digest, from what a lookup found for it (ev, under catalog cat) at now:
// the packages cat matches (no others), the version labels, the SBOM
// source, the layer scan's outcome, why evidence was unavailable, the
// registry's answer about ev's tag when ev names one beside digest, and
// cat's version. It returns nil when digest is not a valid digest
// (v1alpha1.ValidDigest). ev may be nil (nothing found); it is not
// modified, and the result shares no memory with it.
//
// The result is within the caps of package v1alpha1: past MaxPackages,
// packages that decide no finding under cat are left out first (exact
// duplicates, then packages no worse than an earlier one for each of their
// rules), so that evaluating ToEvidence of the result gives the findings ev
// gives as long as at most MaxPackages packages decide them. Descriptive
// strings are cut with "…"; a catalogued package or version label too long
// to store is left out and the evidence marked unavailable (not final).
//
// Platforms are those of the packages found (policy.Evidence does not say
// which platforms were read and held none); a writer that knows more may
// set them. ObservedTime and LastSeenRunning are now, to the second.
func FromEvidence(digest string, ev *policy.Evidence, cat *policy.Catalog, now time.Time) *v1alpha1.ImageEvidence {
	name := v1alpha1.ObjectName(digest)
	if name == "" {
		return nil
	}
	if ev == nil {
		ev = &policy.Evidence{}
	}
	t := metav1.NewTime(now).Rfc3339Copy()
	ie := &v1alpha1.ImageEvidence{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.ImageEvidenceKind},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.ImageEvidenceSpec{Digest: digest},
	}
	if image := imageString(&ev.Ref, false); image != "" {
		ie.Spec.Images = []string{cut(image, v1alpha1.MaxImageLength)}
	}
	st := &ie.Status
	pkgs, tooLong := fitting(catalogued(ev.Packages, cat))
	pkgs, omitted := capPackages(pkgs, cat, v1alpha1.MaxPackages)
	st.PackagesOmitted = int32(omitted)
	if len(pkgs) > 0 {
		st.Packages = make([]v1alpha1.Package, len(pkgs))
		for i := range pkgs {
			st.Packages[i] = storedPackage(&pkgs[i])
		}
	}
	for k, v := range ev.Labels {
		if !policy.IsVersionLabel(k) {
			continue
		}
		if len(k) > v1alpha1.MaxLabelKeyLength || len(v) > v1alpha1.MaxVersionLength {
			tooLong = true
			continue
		}
		if st.Labels == nil {
			st.Labels = make(map[string]string, 1)
		}
		st.Labels[k] = v
	}
	st.SBOM = cut(ev.SBOM, v1alpha1.MaxSourceLength)
	st.Layers = cut(ev.Layers, v1alpha1.MaxSourceLength)
	st.LayersIncomplete = cut(ev.LayersIncomplete, v1alpha1.MaxReasonLength)
	switch {
	case st.Layers != "":
		st.Scan = v1alpha1.ScanComplete
	case st.LayersIncomplete != "":
		st.Scan = v1alpha1.ScanIncomplete
	}
	st.Unavailable = cut(ev.Unavailable, v1alpha1.MaxReasonLength)
	if tooLong && st.Unavailable == "" {
		st.Unavailable = reasonTooLong
	}
	if tc, ok := tagCheck(digest, ev); ok {
		st.Tags = []v1alpha1.TagCheck{tc}
	}
	st.Platforms = platforms(st.Packages)
	st.CatalogVersion = cut(cat.Version(), v1alpha1.MaxCatalogVersionLength)
	st.ObservedTime = &t
	seen := t
	st.LastSeenRunning = &seen
	st.Summary = Summary(st)
	return ie
}

// ToEvidence returns the evidence ie holds, for the image reference ref
// (whose digest, or the digest its tag resolved to, is ie's): evaluating
// it gives the findings the evidence ie was made from gave. The tag beside
// ref's digest counts as verified when ie holds the registry's answer for
// it. A nil ie gives evidence of ref alone. The result shares no memory
// with ie.
//
// ToEvidence does not judge whether ie may be used: see Current and Final.
func ToEvidence(ie *v1alpha1.ImageEvidence, ref policy.ImageRef) *policy.Evidence {
	ev := &policy.Evidence{Ref: ref}
	if ie == nil {
		return ev
	}
	st := &ie.Status
	if len(st.Labels) > 0 {
		ev.Labels = maps.Clone(st.Labels)
	}
	if len(st.Packages) > 0 {
		ev.Packages = make([]policy.Package, len(st.Packages))
		for i := range st.Packages {
			p := &st.Packages[i]
			ev.Packages[i] = policy.Package{
				Type: p.Type, Namespace: p.Namespace, Name: p.Name, Version: p.Version,
				Source: p.Source, Platform: p.Platform, File: p.File,
			}
		}
	}
	ev.SBOM = st.SBOM
	ev.Layers = st.Layers
	ev.LayersIncomplete = st.LayersIncomplete
	ev.Unavailable = st.Unavailable
	if ref.Tag != "" && ref.Digest != "" && ref.Digest == ie.Spec.Digest {
		image := imageString(&ref, true)
		for _, tc := range st.Tags {
			if tc.Image == image {
				ev.TagVerified, ev.TagUnverified = tc.Verified, tc.Reason
				break
			}
		}
	}
	return ev
}

// tagCheck is the registry's answer about ev's tag, when ev names a tag
// beside digest and registry lookups answered.
func tagCheck(digest string, ev *policy.Evidence) (v1alpha1.TagCheck, bool) {
	r := &ev.Ref
	if r.Tag == "" || r.Digest != digest || !ev.TagVerified && ev.TagUnverified == "" {
		return v1alpha1.TagCheck{}, false
	}
	image := imageString(r, true)
	if image == "" || len(image) > v1alpha1.MaxImageLength {
		return v1alpha1.TagCheck{}, false
	}
	tc := v1alpha1.TagCheck{Image: image, Verified: ev.TagVerified}
	if !ev.TagVerified {
		tc.Reason = cut(ev.TagUnverified, v1alpha1.MaxReasonLength)
	}
	return tc, true
}

// imageString is "registry/repository[:tag]" (the registry host
// lowercased), without the digest, which the object names; with
// needTag, "" when r has no tag. A reference without a parsed repository
// gives its original text.
func imageString(r *policy.ImageRef, needTag bool) string {
	if needTag && r.Tag == "" {
		return ""
	}
	if r.Repository == "" {
		if needTag {
			return ""
		}
		return r.Original
	}
	var b strings.Builder
	b.Grow(len(r.Registry) + len(r.Repository) + len(r.Tag) + 2)
	if r.Registry != "" {
		b.WriteString(strings.ToLower(r.Registry))
		b.WriteByte('/')
	}
	b.WriteString(r.Repository)
	if r.Tag != "" {
		b.WriteByte(':')
		b.WriteString(r.Tag)
	}
	return b.String()
}

// storedPackage is p as stored; p's fields fit (see fitting).
func storedPackage(p *policy.Package) v1alpha1.Package {
	sp := v1alpha1.Package{
		Type: p.Type, Namespace: p.Namespace, Name: p.Name, Version: p.Version,
		Source:   cut(p.Source, v1alpha1.MaxSourceLength),
		File:     cut(p.File, v1alpha1.MaxFileLength),
		Platform: cut(p.Platform, v1alpha1.MaxPlatformLength),
	}
	if purl := PURL(p); len(purl) <= v1alpha1.MaxPURLLength {
		sp.PURL = purl
	}
	return sp
}

// platforms are the distinct platforms of pkgs, sorted, at most
// MaxPlatforms.
func platforms(pkgs []v1alpha1.Package) []string {
	var out []string
	for i := range pkgs {
		if p := pkgs[i].Platform; p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	if len(out) > v1alpha1.MaxPlatforms {
		out = out[:v1alpha1.MaxPlatforms]
	}
	return out
}
