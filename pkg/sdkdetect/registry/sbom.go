package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

// How SBOMs are attached to images; each style names its evidence source.
type style uint8

const (
	// styleReferrer: an OCI 1.1 referrer (referrers API, or the
	// "sha256-<hex>" fallback tag) whose artifact type is an SBOM.
	styleReferrer style = iota
	// styleBundleReferrer: a referrer holding a sigstore bundle (cosign v3),
	// a DSSE envelope with an in-toto statement inside.
	styleBundleReferrer
	// styleSBOMTag: cosign's "sha256-<hex>.sbom" tag, the SBOM as a layer.
	styleSBOMTag
	// styleAttestationTag: cosign's "sha256-<hex>.att" tag, DSSE envelopes
	// as layers, annotated with their predicateType.
	styleAttestationTag
	// styleBuildKit: BuildKit's attestation manifest, an index entry for
	// platform unknown/unknown whose layers are in-toto statements.
	styleBuildKit
	// styleAttestationReferrer: a referrer holding DSSE envelopes or in-toto
	// statements (cosign attest in OCI 1.1 referrers mode, ORAS-attached
	// attestations).
	styleAttestationReferrer
)

// source returns the evidence source name of an SBOM of format read by
// style: "sbom:spdx-referrer", "sbom:cyclonedx-sbom-tag", ...
func (st style) source(format string) string {
	switch st {
	case styleReferrer:
		return "sbom:" + format + "-referrer"
	case styleBundleReferrer:
		return "sbom:sigstore-bundle-referrer"
	case styleSBOMTag:
		return "sbom:" + format + "-sbom-tag"
	case styleAttestationTag:
		return "sbom:" + format + "-attestation-tag"
	case styleAttestationReferrer:
		return "sbom:" + format + "-attestation-referrer"
	}
	return "sbom:buildkit-attestation"
}

// Annotations that say what an attestation holds before it is read.
const (
	annCosignPredicate   = "predicateType"                     // cosign .att layers
	annInTotoPredicate   = "in-toto.io/predicate-type"         // BuildKit layers
	annBundlePredicate   = "dev.sigstore.bundle.predicateType" // cosign v3 referrers
	annBundleContent     = "dev.sigstore.bundle.content"       // "dsse-envelope" or "message-signature"
	annTitle             = "org.opencontainers.image.title"    // ORAS file names
	annDockerRefType     = "vnd.docker.reference.type"
	annDockerRefDigest   = "vnd.docker.reference.digest"
	dockerAttestationRef = "attestation-manifest"
	emptyConfigType      = "application/vnd.oci.empty.v1+json"
)

// subject is a manifest SBOMs may hang off: the index or one platform's
// image. platform is "" for the index and for single-platform images.
type subject struct {
	digest, platform string
}

// found is one SBOM read.
type found struct {
	source, platform string
	packages         []policy.Package
}

// taskResult is what one attachment style found for one subject, and the
// first registry error met (absent attachments are not errors). unusable
// says why the first SBOM that could not be used was not (a format that is
// not read, a malformed or oversized document, no package URLs): when no
// SBOM is usable, it becomes the evidence's Unavailable, so that the
// verdict is unknown with that reason rather than "no SBOM".
type taskResult struct {
	found    []found
	err      error
	unusable string
}

// ReasonUnusableSBOM is the Metrics.LookupDone reason of a lookup that found
// SBOMs but none it could use.
const ReasonUnusableSBOM = "unusable-sbom"

type task func(ctx context.Context) taskResult

// The independent lookups for an image are the probes of the top manifest
// (subjectTasks), then those of every platform image and BuildKit's
// attestation manifests (platformTasks); inspect merges their results in
// that order, which decides which SBOM comes first.

// subjectTasks returns the probes of one manifest: its referrers and its
// cosign tags. They need only its digest.
func (d *discovery) subjectTasks(sub subject) []task {
	return []task{
		func(ctx context.Context) taskResult { return d.referrers(ctx, sub) },
		func(ctx context.Context) taskResult { return d.cosignTag(ctx, sub, ".sbom", styleSBOMTag) },
		func(ctx context.Context) taskResult { return d.cosignTag(ctx, sub, ".att", styleAttestationTag) },
	}
}

// platformTasks returns the probes of every platform image of an index,
// and the reading of BuildKit attestation manifests.
func (d *discovery) platformTasks(isIndex bool, images []platformImage) []task {
	var ts []task
	if isIndex {
		for _, im := range images {
			ts = append(ts, d.subjectTasks(subject{im.desc.Digest.String(), im.platform})...)
		}
	}
	for _, im := range images {
		if im.attestation == nil {
			continue
		}
		sub := subject{im.desc.Digest.String(), im.platform}
		att := *im.attestation
		ts = append(ts, func(ctx context.Context) taskResult { return d.buildKit(ctx, sub, att) })
	}
	return ts
}

// referrers reads the SBOM referrers of sub. ggcr falls back to the
// "sha256-<hex>" tag when the registry has no referrers API.
func (d *discovery) referrers(ctx context.Context, sub subject) taskResult {
	idx, err := remote.Referrers(d.repo.Digest(sub.digest), remote.Reuse(d.p), remote.WithContext(ctx))
	if err != nil {
		return absentOK(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return taskResult{err: fmt.Errorf("%w: referrers of %s: %v", errBadManifest, sub.digest, err)}
	}
	var res taskResult
	for _, desc := range im.Manifests {
		st, probe := referrerStyle(desc.ArtifactType, desc.Annotations)
		if !probe && st == styleSkip {
			continue
		}
		m, err := d.artifactManifest(ctx, desc)
		if err != nil {
			res.addErr(err)
			continue
		}
		if probe {
			// The registry did not say the artifact type (some list the
			// config media type instead): the manifest does.
			at := m.ArtifactType
			if at == "" {
				at = string(m.Config.MediaType)
			}
			if st, probe = referrerStyle(at, m.Annotations); probe || st == styleSkip {
				continue
			}
		}
		lr := d.readLayers(ctx, m, sub, st)
		res.found = append(res.found, lr.found...)
		res.addErr(lr.err)
		if res.unusable == "" {
			res.unusable = lr.unusable
		}
	}
	return res
}

// styleSkip marks artifacts that are not SBOMs (signatures, provenance).
const styleSkip style = 255

// referrerStyle classifies a referrer by its artifact type and
// annotations; probe means the type is unknown until the manifest is read.
//
// SBOM artifact types in use: the SBOM media types themselves (ORAS,
// Harbor, cosign attach sbom with its own type names "spdx+json",
// "text/spdx", "application/vnd.cyclonedx+xml" whose content may still
// be JSON), cosign's referrers-mode "application/vnd.dev.cosign.artifact.
// sbom.v1+json", Harbor's generated "application/vnd.goharbor.harbor.sbom.v1"
// and syft's "application/vnd.syft+json". Any other type naming SPDX,
// CycloneDX, syft or an SBOM is read too: the content decides. Attestations
// come as cosign's "application/vnd.dev.cosign.artifact.att.v1+json", DSSE
// envelopes, in-toto statements or sigstore bundles.
func referrerStyle(artifactType string, ann map[string]string) (st style, probe bool) {
	at := baseType(artifactType)
	switch at {
	case "", emptyConfigType, "application/vnd.oci.image.config.v1+json":
		return styleSkip, true
	case "application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json":
		if ann[annBundleContent] == "message-signature" {
			return styleSkip, false
		}
		if pt, ok := ann[annBundlePredicate]; ok && !sdkdetect.IsSBOMPredicateType(pt) {
			return styleSkip, false
		}
		return styleBundleReferrer, false
	case "application/vnd.dev.cosign.artifact.att.v1+json", "application/vnd.dsse.envelope.v1+json", "application/vnd.in-toto+json":
		for _, key := range [...]string{annInTotoPredicate, annCosignPredicate, annBundlePredicate} {
			if pt, ok := ann[key]; ok && !sdkdetect.IsSBOMPredicateType(pt) {
				return styleSkip, false
			}
		}
		return styleAttestationReferrer, false
	}
	if isSignatureType(at) {
		return styleSkip, false
	}
	for _, word := range [...]string{"spdx", "cyclonedx", "sbom", "syft"} {
		if strings.Contains(at, word) {
			return styleReferrer, false
		}
	}
	return styleSkip, false
}

// isSignatureType reports whether an artifact type is a signature's
// (cosign, Notary), which never holds an SBOM.
func isSignatureType(at string) bool {
	return strings.Contains(at, "signature") || strings.HasSuffix(at, ".sig.v1+json") || strings.Contains(at, "simplesigning")
}

// cosignTag reads cosign's "sha256-<hex><suffix>" tag of sub. It asks by
// HEAD first: most images have no such tag, and Docker Hub counts manifest
// GETs, not HEADs, against its pull rate limit.
func (d *discovery) cosignTag(ctx context.Context, sub subject, suffix string, st style) taskResult {
	tag := strings.Replace(sub.digest, ":", "-", 1) + suffix
	if _, err := d.p.Head(ctx, d.repo.Tag(tag)); err != nil && !headUnusable(ctx, err) {
		return absentOK(err)
	}
	got, err := d.getManifest(ctx, tag)
	if err != nil {
		return absentOK(err)
	}
	m, err := parseImageManifest(got.Manifest)
	if err != nil {
		return taskResult{err: err}
	}
	return d.readLayers(ctx, m, sub, st)
}

// buildKit reads BuildKit's attestation manifest for sub.
func (d *discovery) buildKit(ctx context.Context, sub subject, att v1.Descriptor) taskResult {
	m, err := d.artifactManifest(ctx, att)
	if err != nil {
		return absentOK(err)
	}
	return d.readLayers(ctx, m, sub, styleBuildKit)
}

// artifactManifest GETs the manifest desc points at, if not too large.
func (d *discovery) artifactManifest(ctx context.Context, desc v1.Descriptor) (*v1.Manifest, error) {
	if desc.Size > d.s.opts.MaxManifestBytes {
		return nil, fmt.Errorf("manifest %s of %d bytes: %w", desc.Digest, desc.Size, errTooLarge)
	}
	got, err := d.getManifest(ctx, desc.Digest.String())
	if err != nil {
		return nil, err
	}
	return parseImageManifest(got.Manifest)
}

// readLayers parses the layers of m that may hold an SBOM. Layers of
// another predicate type, image layers and archives, or declared larger
// than MaxSBOMBytes are skipped without download. Other media types are
// only hints (cosign labels JSON SBOMs "text/spdx" or "+xml"): the content
// decides. Documents that are not SBOMs (provenance) are skipped; SBOMs
// that cannot be used are logged and skipped, the first one's reason kept
// in unusable; the first registry error is returned.
func (d *discovery) readLayers(ctx context.Context, m *v1.Manifest, sub subject, st style) taskResult {
	var res taskResult
	unusable := func(l v1.Descriptor, why string) {
		d.s.opts.Logger.Warn("skipping an SBOM that cannot be used", "repository", d.repo.Name(), "layer", l.Digest.String(), "why", why)
		if res.unusable == "" {
			res.unusable = why
		}
	}
	for _, l := range m.Layers {
		if why := skipLayer(l, st); why != "" {
			d.s.opts.Logger.Debug("skipping attachment layer", "repository", d.repo.Name(), "layer", l.Digest.String(), "why", why)
			continue
		}
		if l.Size > d.s.opts.MaxSBOMBytes {
			unusable(l, fmt.Sprintf("the image's SBOM (%s, %d bytes) is larger than the limit of %d bytes (registry.maxSBOMBytes)", l.MediaType, l.Size, d.s.opts.MaxSBOMBytes))
			continue
		}
		sb, err := d.readSBOM(ctx, l)
		switch {
		case err == nil && sb.Entries > 0 && sb.PURLs == 0:
			unusable(l, fmt.Sprintf("the image's %s SBOM lists %d packages but no package URLs (purls), so it cannot show which SDKs are present; generate it with a tool that writes purls (syft, trivy, cdxgen)", sb.Format, sb.Entries))
		case err == nil:
			res.found = append(res.found, found{source: st.source(sb.Format), platform: sub.platform, packages: sb.Packages})
		case errors.Is(err, sdkdetect.ErrNotSBOM):
			d.s.opts.Logger.Debug("skipping attachment that is not an SBOM", "repository", d.repo.Name(), "layer", l.Digest.String(), "error", err)
		case errors.Is(err, sdkdetect.ErrTooLarge), errors.Is(err, errTooLarge):
			unusable(l, fmt.Sprintf("the image's SBOM (%s) is larger than the limit of %d bytes (registry.maxSBOMBytes)", l.MediaType, d.s.opts.MaxSBOMBytes))
		case errors.Is(err, sdkdetect.ErrUnsupportedFormat):
			unusable(l, fmt.Sprintf("the image's SBOM is in a format tokenguard does not read (%v); attach an SPDX JSON or CycloneDX JSON SBOM", err))
		case isContentError(err):
			unusable(l, fmt.Sprintf("the image's SBOM (%s) could not be read: %v", l.MediaType, err))
		case res.err == nil:
			res.err = err
		}
	}
	return res
}

func (d *discovery) readSBOM(ctx context.Context, l v1.Descriptor) (*sdkdetect.SBOM, error) {
	rc, err := d.blob(ctx, l.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return sdkdetect.ParseSBOM(rc, string(l.MediaType), d.s.opts.MaxSBOMBytes, d.s.opts.Keep)
}

// skipLayer says why a layer of an attachment of style st cannot hold an
// SBOM, judging by its descriptor alone; "" when it may. SBOM media types
// that are not JSON (text/spdx, +xml) are not skipped: cosign gives them
// to JSON files too, and an SBOM that is really tag-value or XML must be
// reported as such. In an SBOM referrer, a file pushed by ORAS without a
// media type ("oras attach --artifact-type application/spdx+json img
// sbom.json") has ORAS's default, the uncompressed layer type, and its
// name as title: it is read too.
func skipLayer(l v1.Descriptor, st style) string {
	for _, key := range [...]string{annCosignPredicate, annInTotoPredicate} {
		if pt, ok := l.Annotations[key]; ok && !sdkdetect.IsSBOMPredicateType(pt) {
			return "predicate type " + pt
		}
	}
	mt := baseType(string(l.MediaType))
	if st == styleReferrer && l.Annotations[annTitle] != "" &&
		(l.MediaType == types.OCIUncompressedLayer || l.MediaType == types.DockerUncompressedLayer) {
		return ""
	}
	switch {
	case l.MediaType.IsLayer() && !strings.HasSuffix(mt, "json"),
		strings.HasSuffix(mt, "+protobuf"), strings.HasSuffix(mt, "+gzip"), strings.HasSuffix(mt, "+zstd"),
		strings.HasSuffix(mt, ".tar"), strings.HasSuffix(mt, "+tar"),
		strings.HasPrefix(mt, "image/"), isSignatureType(mt):
		return "media type " + string(l.MediaType)
	}
	return ""
}

// isContentError reports whether err is about a document rather than the
// registry: reading it again would give the same error.
func isContentError(err error) bool {
	return errors.Is(err, sdkdetect.ErrInvalidSBOM) || errors.Is(err, sdkdetect.ErrUnknownFormat) ||
		errors.Is(err, sdkdetect.ErrNotSBOM) || errors.Is(err, sdkdetect.ErrTooLarge) ||
		errors.Is(err, errTooLarge) || errors.Is(err, errBadManifest)
}

// baseType is a media type without parameters, lowercased.
func baseType(mt string) string {
	base, _, _ := strings.Cut(mt, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

// absentOK turns "not found" into an empty result: most images have no
// attachment of a given style.
func absentOK(err error) taskResult {
	if isNotFound(err) {
		return taskResult{}
	}
	return taskResult{err: err}
}

func (r *taskResult) addErr(err error) {
	if err != nil && r.err == nil && !isNotFound(err) && !isContentError(err) {
		r.err = err
	}
}
