package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// pkgs prints packages as "version source platform" lines, sorted.
func pkgs(ps []policy.Package) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s/%s/%s@%s %s %s", p.Type, p.Namespace, p.Name, p.Version, p.Source, p.Platform)))
	}
	slices.Sort(out)
	return out
}

func checkEvidence(t *testing.T, ev *policy.Evidence, wantSBOM string, want ...string) {
	t.Helper()
	if ev.Unavailable != "" {
		t.Fatalf("Unavailable = %q", ev.Unavailable)
	}
	if ev.SBOM != wantSBOM {
		t.Errorf("SBOM = %q, want %q", ev.SBOM, wantSBOM)
	}
	got := pkgs(ev.Packages)
	for i := range want {
		want[i] = strings.TrimSpace(want[i])
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("packages:\n got %q\nwant %q", got, want)
	}
}

// multiArch pushes a two-platform index (amd64 labelled) under tag.
func multiArch(t *testing.T, r *testRegistry, path, tag string) (repoIdx, amd64, arm64 v1.Descriptor) {
	repo := r.repo(t, path)
	amd64 = platformDesc(pushImage(t, repo, "", map[string]string{"org.opencontainers.image.version": "1.2.3", "org.opencontainers.image.description": "an API"}), "linux/amd64")
	arm64 = platformDesc(pushImage(t, repo, "", map[string]string{"org.opencontainers.image.version": "1.2.3"}), "linux/arm64")
	repoIdx = pushIndex(t, repo, tag, amd64, arm64)
	return repoIdx, amd64, arm64
}

func evidence(t *testing.T, s *Source, image string) *policy.Evidence {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return s.Evidence(ctx, policy.Puller{}, image)
}

func TestReferrerSPDXOnIndex(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "acme/api")
	var sbomBlob v1.Descriptor
	r.quiet(func() {
		idx, _, _ := multiArch(t, r, "acme/api", "1.4")
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &idx,
			layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14, purlNoise)}},
		})
		sbomBlob = pushBlob(t, repo, spdxDoc(purlClientGo14, purlNoise), "application/spdx+json")
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:1.4")
	checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	// Only the version labels the policy reads are kept (and cached).
	if ev.Labels["org.opencontainers.image.version"] != "1.2.3" || len(ev.Labels) != 1 {
		t.Errorf("Labels = %v", ev.Labels)
	}
	if ev.Ref.Tag != "1.4" || ev.Ref.Repository != "acme/api" {
		t.Errorf("Ref = %+v", ev.Ref)
	}
	if !r.requested("/referrers/") || !r.requested(sbomBlob.Digest.Hex) {
		t.Errorf("expected the referrers API and the SBOM blob to be read: %q", r.requestLog())
	}
}

func TestReferrerCycloneDXOnPlatform(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "acme/api")
	r.quiet(func() {
		_, _, arm64 := multiArch(t, r, "acme/api", "1.4")
		pushArtifact(t, repo, artifact{
			artifactType: "application/vnd.cyclonedx+json", subject: &arm64,
			layers: []layer{{mt: "application/vnd.cyclonedx+json", data: cycloneDXDoc(purlClientGo20, purlNoise)}},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:1.4")
	checkEvidence(t, ev, "sbom:cyclonedx-referrer", "golang/k8s.io/client-go@v0.20.0 sbom:cyclonedx-referrer linux/arm64")
}

func TestMultiArchVersionsPerPlatform(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "acme/api")
	r.quiet(func() {
		_, amd64, arm64 := multiArch(t, r, "acme/api", "1.4")
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &amd64,
			layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14)}},
		})
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &arm64,
			layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo20)}},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:1.4")
	checkEvidence(t, ev, "sbom:spdx-referrer",
		"golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer linux/amd64",
		"golang/k8s.io/client-go@v0.20.0 sbom:spdx-referrer linux/arm64")
}

func TestCosignSBOMTag(t *testing.T) {
	r := newTestRegistry(t) // cosign tags need no referrers API
	repo := r.repo(t, "acme/worker")
	r.quiet(func() {
		img := pushImage(t, repo, "2.0", nil)
		pushArtifact(t, repo, artifact{
			tag: cosignTagFor(img, ".sbom"), configType: types.OCIConfigJSON,
			layers: []layer{{mt: "text/spdx+json", data: spdxDoc(purlClientGo14)}},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/worker:2.0")
	checkEvidence(t, ev, "sbom:spdx-sbom-tag", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-sbom-tag")
}

func TestCosignAttestationTag(t *testing.T) {
	r := newTestRegistry(t)
	repo := r.repo(t, "acme/worker")
	var provenance v1.Descriptor
	r.quiet(func() {
		img := pushImage(t, repo, "2.0", nil)
		provData := dsse(statement(slsaPredicate, []byte(`{"builder":{"id":"x"}}`)))
		provenance = pushBlob(t, repo, provData, "application/vnd.dsse.envelope.v1+json")
		pushArtifact(t, repo, artifact{
			tag: cosignTagFor(img, ".att"), configType: types.OCIConfigJSON,
			layers: []layer{
				{mt: "application/vnd.dsse.envelope.v1+json", data: provData, ann: map[string]string{"predicateType": slsaPredicate}},
				{mt: "application/vnd.dsse.envelope.v1+json", data: dsse(statement(spdxPredicate, spdxDoc(purlClientGo14))), ann: map[string]string{"predicateType": spdxPredicate}},
			},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/worker:2.0")
	checkEvidence(t, ev, "sbom:spdx-attestation-tag", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-attestation-tag")
	if r.requested(provenance.Digest.Hex) {
		t.Errorf("the SLSA provenance layer was downloaded: %q", r.requestLog())
	}
}

func TestSigstoreBundleReferrer(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "acme/api")
	var sigBlob, provBlob v1.Descriptor
	r.quiet(func() {
		img := pushImage(t, repo, "3.1", nil)
		bundleType := "application/vnd.dev.sigstore.bundle.v0.3+json"
		// A signature bundle and a provenance bundle: neither is read.
		sigData := []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","messageSignature":{"signature":"AA=="}}`)
		sigBlob = pushBlob(t, repo, sigData, types.MediaType(bundleType))
		pushArtifact(t, repo, artifact{
			artifactType: bundleType, subject: &img,
			annotations: map[string]string{"dev.sigstore.bundle.content": "message-signature", "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"},
			layers:      []layer{{mt: types.MediaType(bundleType), data: sigData}},
		})
		provData := bundle(dsse(statement(slsaPredicate, []byte(`{}`))))
		provBlob = pushBlob(t, repo, provData, types.MediaType(bundleType))
		pushArtifact(t, repo, artifact{
			artifactType: bundleType, subject: &img,
			annotations: map[string]string{"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": slsaPredicate},
			layers:      []layer{{mt: types.MediaType(bundleType), data: provData}},
		})
		pushArtifact(t, repo, artifact{
			artifactType: bundleType, subject: &img,
			annotations: map[string]string{"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": cdxPredicate},
			layers:      []layer{{mt: types.MediaType(bundleType), data: bundle(dsse(statement(cdxPredicate, cycloneDXDoc(purlClientGo20))))}},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:3.1")
	checkEvidence(t, ev, "sbom:sigstore-bundle-referrer", "golang/k8s.io/client-go@v0.20.0 sbom:sigstore-bundle-referrer")
	if r.requested(sigBlob.Digest.Hex) || r.requested(provBlob.Digest.Hex) {
		t.Errorf("a signature or provenance bundle was downloaded: %q", r.requestLog())
	}
}

func TestBuildKitAttestation(t *testing.T) {
	r := newTestRegistry(t)
	repo := r.repo(t, "acme/api")
	var provBlob v1.Descriptor
	r.quiet(func() {
		amd64 := platformDesc(pushImage(t, repo, "", nil), "linux/amd64")
		arm64 := platformDesc(pushImage(t, repo, "", nil), "linux/arm64")
		provData := statement(slsaPredicate, []byte(`{}`))
		provBlob = pushBlob(t, repo, provData, "application/vnd.in-toto+json")
		att := func(img v1.Descriptor, purl string) v1.Descriptor {
			d := pushArtifact(t, repo, artifact{
				configType: types.OCIConfigJSON,
				layers: []layer{
					{mt: "application/vnd.in-toto+json", data: statement(spdxPredicate, spdxDoc(purl)), ann: map[string]string{"in-toto.io/predicate-type": spdxPredicate}},
					{mt: "application/vnd.in-toto+json", data: provData, ann: map[string]string{"in-toto.io/predicate-type": slsaPredicate}},
				},
			})
			d.Platform = &v1.Platform{OS: "unknown", Architecture: "unknown"}
			d.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": img.Digest.String()}
			return d
		}
		pushIndex(t, repo, "1.4", amd64, arm64, att(amd64, purlClientGo14), att(arm64, purlClientGo20))
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:1.4")
	checkEvidence(t, ev, "sbom:buildkit-attestation",
		"golang/k8s.io/client-go@v0.14.2 sbom:buildkit-attestation linux/amd64",
		"golang/k8s.io/client-go@v0.20.0 sbom:buildkit-attestation linux/arm64")
	if r.requested(provBlob.Digest.Hex) {
		t.Errorf("the provenance layer was downloaded: %q", r.requestLog())
	}
}

func TestDigestPinnedAddonLabel(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "coredns/coredns")
	var img v1.Descriptor
	r.quiet(func() {
		img = pushImage(t, repo, "", map[string]string{"org.opencontainers.image.version": "1.8.4"})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/coredns/coredns@"+img.Digest.String())
	if ev.Unavailable != "" || ev.SBOM != "" || len(ev.Packages) != 0 {
		t.Fatalf("evidence = %+v", ev)
	}
	if got := ev.Labels["org.opencontainers.image.version"]; got != "1.8.4" {
		t.Errorf("version label = %q", got)
	}
	if ev.Ref.Digest != img.Digest.String() {
		t.Errorf("Ref = %+v", ev.Ref)
	}
	cosignProbes := 0
	for _, l := range r.requestLog() {
		cosign := strings.Contains(l, "/manifests/sha256-") && (strings.HasSuffix(l, ".sbom") || strings.HasSuffix(l, ".att"))
		switch {
		case strings.HasPrefix(l, "HEAD ") && cosign:
			cosignProbes++
		case strings.HasPrefix(l, "HEAD "):
			t.Errorf("a digest-pinned reference needs no tag resolution: %s", l)
		case strings.HasPrefix(l, "GET ") && cosign:
			// Docker Hub counts manifest GETs against the pull limit.
			t.Errorf("an absent cosign tag was fetched, not just probed by HEAD: %s", l)
		}
	}
	if cosignProbes != 2 {
		t.Errorf("%d HEAD probes of cosign tags, want 2 (.sbom, .att)", cosignProbes)
	}
}

func TestNoReferrersAPIFallbackTag(t *testing.T) {
	r := newTestRegistry(t) // no referrers API: ggcr pushes and reads the sha256-<hex> tag
	repo := r.repo(t, "acme/api")
	var img v1.Descriptor
	r.quiet(func() {
		img = pushImage(t, repo, "1.0", nil)
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &img,
			layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14)}},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:1.0")
	checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	fallback := "/manifests/" + strings.Replace(img.Digest.String(), ":", "-", 1)
	if !r.requested("/referrers/") || !slices.Contains(r.requestLog(), "GET /v2/acme/api"+fallback) {
		t.Errorf("expected the referrers API then the fallback tag: %q", r.requestLog())
	}
}

func TestLegacyArtifactConfigMediaType(t *testing.T) {
	// ORAS 1.0 style: no artifactType, the type is the config's media type.
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "acme/api")
	r.quiet(func() {
		img := pushImage(t, repo, "1.0", nil)
		pushArtifact(t, repo, artifact{
			configType: "application/vnd.cyclonedx+json", subject: &img,
			layers: []layer{{mt: "application/vnd.cyclonedx+json", data: cycloneDXDoc(purlClientGo20)}},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	checkEvidence(t, evidence(t, s, r.host+"/acme/api:1.0"), "sbom:cyclonedx-referrer", "golang/k8s.io/client-go@v0.20.0 sbom:cyclonedx-referrer")
}

func TestAllStylesTogether(t *testing.T) {
	// The same package found by several styles is reported once, from the
	// first style in order (referrers before tags).
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "acme/api")
	r.quiet(func() {
		img := pushImage(t, repo, "1.0", nil)
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &img,
			layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14)}},
		})
		pushArtifact(t, repo, artifact{
			tag: cosignTagFor(img, ".sbom"), configType: types.OCIConfigJSON,
			layers: []layer{{mt: "application/vnd.cyclonedx+json", data: cycloneDXDoc(purlClientGo14, "pkg:pypi/kubernetes@11.0.0")}},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	checkEvidence(t, evidence(t, s, r.host+"/acme/api:1.0"), "sbom:spdx-referrer",
		"golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer",
		"pypi//kubernetes@11.0.0 sbom:cyclonedx-sbom-tag")
}
