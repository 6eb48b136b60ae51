package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unique"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// lookup finds the evidence of ref in its registry with credentials c and
// caches it. It never fails: failures are records with a reason.
func (s *Source) lookup(ctx context.Context, ref name.Reference, c creds) *record {
	begin := time.Now()
	host := ref.Context().RegistryStr()
	rec := s.lookupRef(ctx, ref, c)
	d := time.Since(begin)
	s.opts.Metrics.LookupDone(s.hostLabel(host), rec.reason, d)
	if rec.unavailable != "" {
		s.opts.Logger.Warn("registry lookup failed", "image", displayRef(ref), "reason", rec.reason, "error", rec.unavailable, "duration", d, "pullSecrets", c.key != "")
	} else {
		s.opts.Logger.Debug("registry lookup", "image", displayRef(ref), "sbom", rec.sbom, "packages", len(rec.packages), "labels", len(rec.labels), "duration", d)
	}
	return rec
}

func (s *Source) lookupRef(ctx context.Context, ref name.Reference, c creds) *record {
	host := ref.Context().RegistryStr()
	p, err := s.pullers.get(ref.Context().Registry, c)
	if err != nil {
		return s.failed(ref, err)
	}
	digest := ref.Identifier()
	var pre *remote.Descriptor
	if tag, ok := ref.(name.Tag); ok {
		if rec, ok := s.cache.get(refKey(ref)); ok && rec.unavailable == "" {
			digest = rec.digest
		} else {
			var rec *record
			if rec, pre = s.tagDigest(ctx, p, tag, c); rec.unavailable != "" {
				return rec
			}
			digest = rec.digest
		}
	}
	dkey := digestKey(ref.Context(), digest)
	if rec, ok := s.get(dkey, c); ok {
		return rec
	}
	// Tags pointing at one digest share its inspection. The key differs
	// from the digest reference's own flight key, which may be the caller.
	v, _, _ := s.flight.Do(c.scoped("inspect "+dkey), func() (any, error) {
		if rec, ok := s.get(dkey, c); ok {
			return rec, nil
		}
		if rec, ok := s.shared(digest); ok {
			s.put(dkey, c, rec)
			return rec, nil
		}
		rec := s.inspect(ctx, p, ref, digest, pre)
		if rec.reason == ReasonAuth || rec.reason == ReasonDenied {
			s.pullers.drop(host, c, p)
		}
		s.put(dkey, c, rec)
		return rec, nil
	})
	return v.(*record)
}

// resolveTag returns the digest tag points at: by HEAD, or by GET when the
// registry's HEAD is unusable (then the manifest is returned too).
func resolveTag(ctx context.Context, p *remote.Puller, tag name.Tag) (string, *remote.Descriptor, error) {
	desc, err := p.Head(ctx, tag)
	if err == nil {
		return desc.Digest.String(), nil, nil
	}
	if !headUnusable(ctx, err) && !(isAuthError(err) && !hasDiagnostics(err)) {
		return "", nil, err
	}
	// A GET when HEAD is unusable, and after a bodiless 401 or 403: its
	// body says why ("Your authorization token has expired"), which the
	// operator needs; a 429 is not asked again.
	got, err := p.Get(ctx, tag)
	if err != nil {
		return "", nil, err
	}
	return got.Digest.String(), got, nil
}

// headUnusable reports whether a failed HEAD should be retried as a GET:
// only when HEAD itself is the problem, a missing header or a registry that
// does not do HEAD. A 404, 401, 429 or 5xx would repeat.
func headUnusable(ctx context.Context, err error) bool {
	var terr *transport.Error
	return ctx.Err() == nil && !(errors.As(err, &terr) && !slices.Contains([]int{400, 405, 501}, terr.StatusCode))
}

// hasDiagnostics reports whether a registry error carries the registry's
// own error entries (a HEAD response has no body to carry them).
func hasDiagnostics(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && len(terr.Errors) > 0
}

// failed returns the failure record of err, kept for NegativeTTL.
func (s *Source) failed(ref name.Reference, err error) *record {
	f := explain(ref.Context().RegistryStr(), displayRef(ref), err)
	return &record{unavailable: f.msg, reason: f.reason, ttl: s.opts.NegativeTTL}
}

// displayRef prints ref for messages, with Docker Hub spelt as users do.
func displayRef(ref name.Reference) string {
	s := ref.Name()
	if rest, ok := strings.CutPrefix(s, name.DefaultRegistry+"/"); ok {
		return "docker.io/" + rest
	}
	return s
}

// platformImage is one image of an index: its manifest descriptor and
// platform ("linux/arm64"); platform is empty for a single-platform image.
type platformImage struct {
	desc     v1.Descriptor
	platform string
	// attestation is BuildKit's attestation manifest for this image.
	attestation *v1.Descriptor
}

// inspect reads the manifest at digest (pre, when the tag resolution
// already fetched it), the config labels of its first linux image, and
// every SBOM attached to it or to its platform images.
//
// The probes of the top manifest (referrers, cosign tags) need only its
// digest: they start beside its GET, so that a cold lookup's referrers
// chain (list, artifact manifest, blob) does not wait for the manifest.
func (s *Source) inspect(ctx context.Context, p *remote.Puller, ref name.Reference, digest string, pre *remote.Descriptor) *record {
	d := &discovery{s: s, p: p, repo: ref.Context()}
	var g errgroup.Group
	g.SetLimit(s.opts.PerRegistryConcurrency)
	run := func(ctx context.Context, tasks []task, results []taskResult) {
		for i, task := range tasks {
			g.Go(func() error {
				results[i] = task(ctx)
				return nil
			})
		}
	}
	// The top probes are cancelled when the manifest cannot be read: the
	// lookup fails without them.
	topCtx, cancelTop := context.WithCancel(ctx)
	defer cancelTop()
	topTasks := d.subjectTasks(subject{digest: digest})
	topResults := make([]taskResult, len(topTasks))
	run(topCtx, topTasks, topResults)
	fail := func(err error) *record {
		cancelTop()
		_ = g.Wait()
		return s.failed(ref, err)
	}
	top := pre
	if top == nil {
		var err error
		if top, err = d.getManifest(ctx, digest); err != nil {
			return fail(err)
		}
	}
	images, isIndex, err := d.platformImages(top)
	if err != nil {
		return fail(err)
	}
	if len(images) > s.opts.MaxPlatforms {
		// Each platform costs a few requests (referrers, cosign tags):
		// an index of thousands would cost thousands. Platforms of one
		// release carry one version; the first ones stand for the rest.
		s.opts.Logger.Info("image index has more linux platforms than are read", "image", displayRef(ref), "platforms", len(images), "read", s.opts.MaxPlatforms)
		images = images[:s.opts.MaxPlatforms]
	}
	var (
		labels    map[string]string
		labelsErr error
	)
	if len(images) > 0 {
		first := images[0]
		g.Go(func() error {
			var m *v1.Manifest
			if !isIndex {
				m, labelsErr = parseImageManifest(top.Manifest)
			} else {
				var got *remote.Descriptor
				if got, labelsErr = d.getManifest(ctx, first.desc.Digest.String()); labelsErr == nil {
					m, labelsErr = parseImageManifest(got.Manifest)
				}
			}
			if labelsErr == nil {
				labels, labelsErr = d.configLabels(ctx, m)
			}
			return nil
		})
	}
	rest := d.platformTasks(isIndex, images)
	restResults := make([]taskResult, len(rest))
	run(ctx, rest, restResults)
	_ = g.Wait() // tasks report their errors in results
	rec := s.merge(ref, labels, labelsErr, append(topResults, restResults...))
	rec.digest = digest
	rec.offered = new(atomic.Bool)
	if s.scanner != nil {
		rec.targets = scanTargets(images, isIndex, digest, s.scanner.opts.Platforms)
	}
	return rec
}

// merge combines the tasks' findings, in task order, into one record.
func (s *Source) merge(ref name.Reference, labels map[string]string, firstErr error, results []taskResult) *record {
	rec := &record{labels: labels, ttl: s.opts.NoSBOMTTL}
	type pkgKey struct{ typ, ns, name, version, platform string }
	seen := make(map[pkgKey]bool)
	unusable := ""
	for _, r := range results {
		if firstErr == nil {
			firstErr = r.err
		}
		if unusable == "" {
			unusable = r.unusable
		}
		for _, f := range r.found {
			if rec.sbom == "" {
				rec.sbom = intern(f.source)
			}
			for _, p := range f.packages {
				k := pkgKey{p.Type, p.Namespace, p.Name, p.Version, f.platform}
				if seen[k] {
					continue
				}
				seen[k] = true
				// One copy of each name, source and platform for the whole
				// cache (only catalogued packages are kept, a small set).
				// The version is a substring of the whole package URL:
				// keep only its own bytes.
				p.Type, p.Namespace, p.Name = intern(p.Type), intern(p.Namespace), intern(p.Name)
				p.Version = strings.Clone(p.Version)
				p.Source, p.Platform = intern(f.source), intern(f.platform)
				rec.packages = append(rec.packages, p)
			}
		}
	}
	switch {
	case rec.sbom != "" && firstErr == nil:
		rec.ttl = 0 // complete: kept until evicted
	case rec.sbom == "" && firstErr != nil:
		f := s.failed(ref, firstErr)
		rec.unavailable, rec.reason, rec.ttl = f.unavailable, f.reason, f.ttl
	case rec.sbom == "" && unusable != "":
		// SBOMs are attached but none can be used (tag-value, XML, no
		// purls, malformed): say so, rather than "no SBOM". Kept as long
		// as "no SBOM" is, since a usable one may be attached later.
		rec.unavailable, rec.reason = intern(unusable), ReasonUnusableSBOM
	}
	return rec
}

// intern returns the canonical copy of s, so that the strings repeated in
// every cache record share their bytes.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// discovery reads one repository with one puller.
type discovery struct {
	s    *Source
	p    *remote.Puller
	repo name.Repository
}

// getManifest GETs a manifest by digest or tag.
func (d *discovery) getManifest(ctx context.Context, id string) (*remote.Descriptor, error) {
	var ref name.Reference
	if strings.Contains(id, ":") {
		ref = d.repo.Digest(id)
	} else {
		ref = d.repo.Tag(id)
	}
	return d.p.Get(ctx, ref)
}

// Media types of manifests (ggcr's types, plus OCI artifact manifests
// that some registries still serve).
func isIndexType(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

func isImageType(mt types.MediaType) bool {
	return mt == types.OCIManifestSchema1 || mt == types.DockerManifestSchema2
}

// manifestType is the manifest's media type: the Content-Type the registry
// sent, or the mediaType field when the header is missing or generic.
func manifestType(desc *remote.Descriptor) (types.MediaType, error) {
	mt := types.MediaType(strings.TrimSpace(strings.Split(string(desc.MediaType), ";")[0]))
	if isIndexType(mt) || isImageType(mt) {
		return mt, nil
	}
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Layers    json.RawMessage `json:"layers"`
	}
	if err := json.Unmarshal(desc.Manifest, &probe); err != nil {
		return "", fmt.Errorf("%w: content type %q, body is not JSON: %v", errBadManifest, desc.MediaType, err)
	}
	switch {
	case isIndexType(probe.MediaType) || isImageType(probe.MediaType):
		return probe.MediaType, nil
	case probe.MediaType == "" && probe.Manifests != nil:
		return types.OCIImageIndex, nil
	case probe.MediaType == "" && probe.Layers != nil:
		return types.OCIManifestSchema1, nil
	}
	return "", fmt.Errorf("%w: unsupported content type %q", errBadManifest, desc.MediaType)
}

// platformImages lists the linux images of an index, with BuildKit's
// attestation manifests attached to them, or the image itself.
func (d *discovery) platformImages(top *remote.Descriptor) (images []platformImage, isIndex bool, err error) {
	mt, err := manifestType(top)
	if err != nil {
		return nil, false, err
	}
	if isImageType(mt) {
		return []platformImage{{desc: top.Descriptor}}, false, nil
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(top.Manifest))
	if err != nil {
		return nil, true, fmt.Errorf("%w: %v", errBadManifest, err)
	}
	attestations := make(map[string]*v1.Descriptor)
	for i := range im.Manifests {
		m := &im.Manifests[i]
		if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			attestations[m.Annotations["vnd.docker.reference.digest"]] = m
			continue
		}
		if !isImageType(m.MediaType) {
			continue // nested indexes, artifacts
		}
		if m.Platform == nil {
			images = append(images, platformImage{desc: *m})
			continue
		}
		if m.Platform.OS != "linux" {
			continue // windows, unknown/unknown
		}
		images = append(images, platformImage{desc: *m, platform: platformString(m.Platform)})
	}
	for i := range images {
		images[i].attestation = attestations[images[i].desc.Digest.String()]
	}
	return images, true, nil
}

func platformString(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

func parseImageManifest(raw []byte) (*v1.Manifest, error) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadManifest, err)
	}
	return m, nil
}

// configLabels reads the labels of an image config.
func (d *discovery) configLabels(ctx context.Context, m *v1.Manifest) (map[string]string, error) {
	if m.Config.Size > d.s.opts.MaxManifestBytes {
		return nil, fmt.Errorf("image config of %d bytes: %w", m.Config.Size, errTooLarge)
	}
	rc, err := d.blob(ctx, m.Config.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var cfg struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.NewDecoder(io.LimitReader(rc, d.s.opts.MaxManifestBytes)).Decode(&cfg); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) || errors.As(err, &te) || err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %v", errBadConfig, err)
		}
		return nil, err
	}
	// Keep only the labels the policy reads: the rest would only take room
	// in the cache.
	var labels map[string]string
	for k, v := range cfg.Config.Labels {
		if policy.IsVersionLabel(k) {
			if labels == nil {
				labels = make(map[string]string, 1)
			}
			labels[k] = v
		}
	}
	return labels, nil
}

// blob opens a blob for reading.
func (d *discovery) blob(ctx context.Context, h v1.Hash) (io.ReadCloser, error) {
	l, err := d.p.Layer(ctx, d.repo.Digest(h.String()))
	if err != nil {
		return nil, err
	}
	return l.Compressed()
}
