package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

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
	}
	return "sbom:buildkit-attestation"
}

// Annotations that say what an attestation holds before it is read.
const (
	annCosignPredicate   = "predicateType"                     // cosign .att layers
	annInTotoPredicate   = "in-toto.io/predicate-type"         // BuildKit layers
	annBundlePredicate   = "dev.sigstore.bundle.predicateType" // cosign v3 referrers
	annBundleContent     = "dev.sigstore.bundle.content"       // "dsse-envelope" or "message-signature"
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
// first registry error met (absent attachments are not errors).
type taskResult struct {
	found []found
	err   error
}

type task func(ctx context.Context) taskResult

// tasks returns the independent lookups for an image: referrers and cosign
// tags of the top manifest and of every platform image, and BuildKit
// attestation manifests. Their order decides which SBOM comes first.
func (d *discovery) tasks(top v1.Hash, isIndex bool, images []platformImage) []task {
	subjects := []subject{{digest: top.String()}}
	if isIndex {
		for _, im := range images {
			subjects = append(subjects, subject{im.desc.Digest.String(), im.platform})
		}
	}
	var ts []task
	for _, sub := range subjects {
		ts = append(ts,
			func(ctx context.Context) taskResult { return d.referrers(ctx, sub) },
			func(ctx context.Context) taskResult { return d.cosignTag(ctx, sub, ".sbom", styleSBOMTag) },
			func(ctx context.Context) taskResult { return d.cosignTag(ctx, sub, ".att", styleAttestationTag) },
		)
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
		fs, err := d.readLayers(ctx, m, sub, st)
		res.found = append(res.found, fs...)
		res.addErr(err)
	}
	return res
}

// styleSkip marks artifacts that are not SBOMs (signatures, provenance).
const styleSkip style = 255

// referrerStyle classifies a referrer by its artifact type and
// annotations; probe means the type is unknown until the manifest is read.
func referrerStyle(artifactType string, ann map[string]string) (st style, probe bool) {
	switch baseType(artifactType) {
	case "application/spdx+json", "application/spdx3+json", "text/spdx+json", "application/vnd.cyclonedx+json":
		return styleReferrer, false
	case "application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json":
		if ann[annBundleContent] == "message-signature" {
			return styleSkip, false
		}
		if pt, ok := ann[annBundlePredicate]; ok && !isSBOMPredicate(pt) {
			return styleSkip, false
		}
		return styleBundleReferrer, false
	case "", emptyConfigType:
		return styleSkip, true
	}
	return styleSkip, false
}

// cosignTag reads cosign's "sha256-<hex><suffix>" tag of sub.
func (d *discovery) cosignTag(ctx context.Context, sub subject, suffix string, st style) taskResult {
	got, err := d.getManifest(ctx, strings.Replace(sub.digest, ":", "-", 1)+suffix)
	if err != nil {
		return absentOK(err)
	}
	m, err := parseImageManifest(got.Manifest)
	if err != nil {
		return taskResult{err: err}
	}
	fs, err := d.readLayers(ctx, m, sub, st)
	return taskResult{found: fs, err: err}
}

// buildKit reads BuildKit's attestation manifest for sub.
func (d *discovery) buildKit(ctx context.Context, sub subject, att v1.Descriptor) taskResult {
	m, err := d.artifactManifest(ctx, att)
	if err != nil {
		return absentOK(err)
	}
	fs, err := d.readLayers(ctx, m, sub, styleBuildKit)
	return taskResult{found: fs, err: err}
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
// another predicate type, of a non-JSON media type, or declared larger
// than MaxSBOMBytes are skipped without download. Unreadable documents are
// logged and skipped; the first registry error is returned.
func (d *discovery) readLayers(ctx context.Context, m *v1.Manifest, sub subject, st style) ([]found, error) {
	var (
		out      []found
		firstErr error
	)
	for _, l := range m.Layers {
		if why := skipLayer(l); why != "" {
			d.s.opts.Logger.Debug("skipping attachment layer", "repository", d.repo.Name(), "layer", l.Digest.String(), "why", why)
			continue
		}
		if l.Size > d.s.opts.MaxSBOMBytes {
			d.s.opts.Logger.Warn("skipping SBOM above the size limit", "repository", d.repo.Name(), "layer", l.Digest.String(), "size", l.Size, "limit", d.s.opts.MaxSBOMBytes)
			continue
		}
		sb, err := d.readSBOM(ctx, l)
		switch {
		case err == nil:
			out = append(out, found{source: st.source(sb.Format), platform: sub.platform, packages: sb.Packages})
		case isContentError(err):
			d.s.opts.Logger.Debug("skipping unreadable attachment", "repository", d.repo.Name(), "layer", l.Digest.String(), "error", err)
		case firstErr == nil:
			firstErr = err
		}
	}
	return out, firstErr
}

func (d *discovery) readSBOM(ctx context.Context, l v1.Descriptor) (*sdkdetect.SBOM, error) {
	rc, err := d.blob(ctx, l.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return sdkdetect.ParseSBOM(rc, string(l.MediaType), d.s.opts.MaxSBOMBytes, d.s.opts.Keep)
}

// skipLayer says why a layer cannot hold an SBOM, judging by its
// descriptor alone; "" when it may.
func skipLayer(l v1.Descriptor) string {
	for _, key := range [...]string{annCosignPredicate, annInTotoPredicate} {
		if pt, ok := l.Annotations[key]; ok && !isSBOMPredicate(pt) {
			return "predicate type " + pt
		}
	}
	mt := baseType(string(l.MediaType))
	switch {
	case l.MediaType.IsLayer() && !strings.HasSuffix(mt, "json"),
		strings.HasSuffix(mt, "+xml"), strings.HasSuffix(mt, "/xml"),
		mt == "text/spdx", mt == "application/vnd.cyclonedx",
		strings.HasSuffix(mt, "+protobuf"), strings.HasSuffix(mt, "+gzip"), strings.HasSuffix(mt, "+zstd"),
		strings.HasSuffix(mt, ".tar"), strings.HasSuffix(mt, "+tar"):
		return "media type " + string(l.MediaType)
	}
	return ""
}

// isSBOMPredicate reports whether an in-toto predicate type is an SBOM:
// https://spdx.dev/Document or https://cyclonedx.org/bom, with or without
// a version suffix.
func isSBOMPredicate(pt string) bool {
	for _, prefix := range [...]string{"https://spdx.dev/Document", "https://cyclonedx.org/bom"} {
		if pt == prefix || strings.HasPrefix(pt, prefix+"/") {
			return true
		}
	}
	return false
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
