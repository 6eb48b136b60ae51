package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestRealWorldAttachments attaches SBOMs the way real tools do, with their
// artifact and media types, and checks what the evidence says: the
// packages found, or why the SBOM could not be used.
func TestRealWorldAttachments(t *testing.T) {
	spdxTagValue := []byte("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n")
	cdxXML := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"></bom>`)
	noPURLs := []byte(`{"spdxVersion":"SPDX-2.3","packages":[{"name":"k8s.io/client-go","versionInfo":"v0.14.2"}]}`)
	tests := []struct {
		name string
		// attach pushes the attachment for img in repo.
		attach      func(t *testing.T, repo name.Repository, img v1.Descriptor)
		wantSBOM    string
		want        []string
		unavailable string // a substring of Unavailable; "" for none
	}{
		{
			// cosign attach sbom --registry-referrers-mode=oci-1-1: the
			// artifact type is cosign's, the layer keeps the SBOM's own type
			// (cosign's "spdx+json" for SPDX JSON).
			name: "cosign attach sbom, referrers mode",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					artifactType: "application/vnd.dev.cosign.artifact.sbom.v1+json", configType: "application/vnd.dev.cosign.artifact.sbom.v1+json", subject: &img,
					layers: []layer{{mt: "spdx+json", data: spdxDoc(purlClientGo14)}},
				})
			},
			wantSBOM: "sbom:spdx-referrer", want: []string{"golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer"},
		},
		{
			// Harbor's generated SBOM accessory (trivy SPDX JSON).
			name: "harbor sbom accessory",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					artifactType: "application/vnd.goharbor.harbor.sbom.v1", subject: &img,
					annotations: map[string]string{"created-by": "trivy", "org.opencontainers.artifact.description": "SPDX JSON SBOM"},
					layers:      []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo20)}},
				})
			},
			wantSBOM: "sbom:spdx-referrer", want: []string{"golang/k8s.io/client-go@v0.20.0 sbom:spdx-referrer"},
		},
		{
			// oras attach --artifact-type application/vnd.cyclonedx+json img bom.json:
			// the file gets ORAS's default layer type and its name as title.
			name: "oras attach without a layer media type",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					artifactType: "application/vnd.cyclonedx+json", subject: &img,
					layers: []layer{{mt: types.OCIUncompressedLayer, data: cycloneDXDoc(purlClientGo20), ann: map[string]string{"org.opencontainers.image.title": "bom.json"}}},
				})
			},
			wantSBOM: "sbom:cyclonedx-referrer", want: []string{"golang/k8s.io/client-go@v0.20.0 sbom:cyclonedx-referrer"},
		},
		{
			// cosign 1.x attach sbom labels every SPDX "text/spdx", JSON
			// included; cosign 2 does for files not named *.json.
			name: "cosign .sbom tag, JSON labelled text/spdx",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					tag: cosignTagFor(img, ".sbom"), configType: types.OCIConfigJSON,
					layers: []layer{{mt: "text/spdx", data: spdxDoc(purlClientGo14)}},
				})
			},
			wantSBOM: "sbom:spdx-sbom-tag", want: []string{"golang/k8s.io/client-go@v0.14.2 sbom:spdx-sbom-tag"},
		},
		{
			// cosign 2 labels CycloneDX files not named *.json "+xml".
			name: "cosign .sbom tag, JSON labelled cyclonedx+xml",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					tag: cosignTagFor(img, ".sbom"), configType: types.OCIConfigJSON,
					layers: []layer{{mt: "application/vnd.cyclonedx+xml", data: cycloneDXDoc(purlClientGo20)}},
				})
			},
			wantSBOM: "sbom:cyclonedx-sbom-tag", want: []string{"golang/k8s.io/client-go@v0.20.0 sbom:cyclonedx-sbom-tag"},
		},
		{
			name: "cosign .sbom tag, SPDX tag-value",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					tag: cosignTagFor(img, ".sbom"), configType: types.OCIConfigJSON,
					layers: []layer{{mt: "text/spdx", data: spdxTagValue}},
				})
			},
			unavailable: "the image's SBOM is in a format tokenguard does not read (unsupported SBOM format: the document is SPDX tag-value",
		},
		{
			name: "cyclonedx xml referrer",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					artifactType: "application/vnd.cyclonedx+xml", subject: &img,
					layers: []layer{{mt: "application/vnd.cyclonedx+xml", data: cdxXML}},
				})
			},
			unavailable: "CycloneDX XML",
		},
		{
			// cosign attest --type spdx: the tag-value text is the predicate.
			name: "cosign .att tag, SPDX tag-value predicate",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pred := []byte(`"` + strings.ReplaceAll(string(spdxTagValue), "\n", `\n`) + `"`)
				pushArtifact(t, repo, artifact{
					tag: cosignTagFor(img, ".att"), configType: types.OCIConfigJSON,
					layers: []layer{{mt: "application/vnd.dsse.envelope.v1+json", data: dsse(statement(spdxPredicate, pred)), ann: map[string]string{"predicateType": spdxPredicate}}},
				})
			},
			unavailable: "SPDX tag-value",
		},
		{
			// cosign attest --registry-referrers-mode=oci-1-1.
			name: "cosign attest, referrers mode",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					artifactType: "application/vnd.dev.cosign.artifact.att.v1+json", subject: &img,
					layers: []layer{{mt: "application/vnd.dsse.envelope.v1+json", data: dsse(statement(cdxPredicate, cycloneDXDoc(purlClientGo20))), ann: map[string]string{"predicateType": cdxPredicate}}},
				})
			},
			wantSBOM: "sbom:cyclonedx-attestation-referrer", want: []string{"golang/k8s.io/client-go@v0.20.0 sbom:cyclonedx-attestation-referrer"},
		},
		{
			// syft attest -o syft-json: predicate type https://syft.dev/bom.
			name: "syft json attestation",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				doc := []byte(`{"artifacts":[{"name":"k8s.io/client-go","version":"v0.14.2","type":"go-module","purl":"` + purlClientGo14 + `"}],"descriptor":{"name":"syft"}}`)
				pushArtifact(t, repo, artifact{
					tag: cosignTagFor(img, ".att"), configType: types.OCIConfigJSON,
					layers: []layer{{mt: "application/vnd.dsse.envelope.v1+json", data: dsse(statement("https://syft.dev/bom", doc)), ann: map[string]string{"predicateType": "https://syft.dev/bom"}}},
				})
			},
			wantSBOM: "sbom:syft-attestation-tag", want: []string{"golang/k8s.io/client-go@v0.14.2 sbom:syft-attestation-tag"},
		},
		{
			name: "sbom without package URLs",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					artifactType: "application/spdx+json", subject: &img,
					layers: []layer{{mt: "application/spdx+json", data: noPURLs}},
				})
			},
			unavailable: "SBOM lists 1 packages but no package URLs",
		},
		{
			// An unusable SBOM beside a usable one: the usable one counts.
			name: "unusable beside usable",
			attach: func(t *testing.T, repo name.Repository, img v1.Descriptor) {
				pushArtifact(t, repo, artifact{
					artifactType: "application/vnd.cyclonedx+xml", subject: &img,
					layers: []layer{{mt: "application/vnd.cyclonedx+xml", data: cdxXML}},
				})
				pushArtifact(t, repo, artifact{
					artifactType: "application/spdx+json", subject: &img,
					layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14)}},
				})
			},
			wantSBOM: "sbom:spdx-referrer", want: []string{"golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRegistry(t, registry.WithReferrersSupport(true))
			repo := r.repo(t, "acme/api")
			r.quiet(func() {
				img := pushImage(t, repo, "1.0", nil)
				tt.attach(t, repo, img)
			})
			s := newSource(t, Options{Timeout: 10 * time.Second})
			ev := evidence(t, s, r.host+"/acme/api:1.0")
			if tt.unavailable != "" {
				if ev.SBOM != "" || len(ev.Packages) != 0 || !strings.Contains(ev.Unavailable, tt.unavailable) {
					t.Fatalf("evidence = %+v, want no SBOM and Unavailable containing %q", ev, tt.unavailable)
				}
				return
			}
			checkEvidence(t, ev, tt.wantSBOM, tt.want...)
		})
	}
}

func TestSignatureReferrersAreNotRead(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "acme/api")
	var sig, notary v1.Descriptor
	r.quiet(func() {
		img := pushImage(t, repo, "1.0", nil)
		sigData := []byte(`{"critical":{}}`)
		sig = pushBlob(t, repo, sigData, "application/vnd.dev.cosign.simplesigning.v1+json")
		pushArtifact(t, repo, artifact{
			artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json", subject: &img,
			layers: []layer{{mt: "application/vnd.dev.cosign.simplesigning.v1+json", data: sigData}},
		})
		notaryData := []byte("notary-jws")
		notary = pushBlob(t, repo, notaryData, "application/jose+json")
		pushArtifact(t, repo, artifact{
			artifactType: "application/vnd.cncf.notary.signature", subject: &img,
			layers: []layer{{mt: "application/jose+json", data: notaryData}},
		})
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:1.0")
	if ev.SBOM != "" || ev.Unavailable != "" {
		t.Errorf("evidence = %+v", ev)
	}
	if r.requested(sig.Digest.Hex) || r.requested(notary.Digest.Hex) {
		t.Errorf("a signature was downloaded: %q", r.requestLog())
	}
}

func TestReferrerStyle(t *testing.T) {
	tests := []struct {
		artifactType string
		ann          map[string]string
		want         style
		probe        bool
	}{
		{"application/spdx+json", nil, styleReferrer, false},
		{"application/spdx3+json", nil, styleReferrer, false},
		{"text/spdx+json", nil, styleReferrer, false},
		{"spdx+json", nil, styleReferrer, false},
		{"text/spdx", nil, styleReferrer, false},
		{"application/vnd.cyclonedx+json; version=1.5", nil, styleReferrer, false},
		{"application/vnd.cyclonedx", nil, styleReferrer, false},
		{"application/vnd.cyclonedx+xml", nil, styleReferrer, false},
		{"application/vnd.syft+json", nil, styleReferrer, false},
		{"application/vnd.dev.cosign.artifact.sbom.v1+json", nil, styleReferrer, false},
		{"application/vnd.goharbor.harbor.sbom.v1", nil, styleReferrer, false},
		{"application/vnd.dev.cosign.artifact.att.v1+json", nil, styleAttestationReferrer, false},
		{"application/vnd.in-toto+json", map[string]string{"in-toto.io/predicate-type": "https://spdx.dev/Document"}, styleAttestationReferrer, false},
		{"application/vnd.in-toto+json", map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v1"}, styleSkip, false},
		{"application/vnd.dev.sigstore.bundle.v0.3+json", map[string]string{"dev.sigstore.bundle.predicateType": "https://spdx.dev/Document/v2.3"}, styleBundleReferrer, false},
		{"application/vnd.dev.sigstore.bundle+json;version=0.2", nil, styleBundleReferrer, false},
		{"application/vnd.dev.sigstore.bundle.v0.3+json", map[string]string{"dev.sigstore.bundle.content": "message-signature"}, styleSkip, false},
		{"application/vnd.dev.cosign.artifact.sig.v1+json", nil, styleSkip, false},
		{"application/vnd.cncf.notary.signature", nil, styleSkip, false},
		{"application/vnd.microsoft.artifact.lifecycle", nil, styleSkip, false},
		{"application/sarif+json", nil, styleSkip, false},
		{"", nil, styleSkip, true},
		{"application/vnd.oci.empty.v1+json", nil, styleSkip, true},
	}
	for _, tt := range tests {
		st, probe := referrerStyle(tt.artifactType, tt.ann)
		if st != tt.want || probe != tt.probe {
			t.Errorf("referrerStyle(%q, %v) = %d, %v; want %d, %v", tt.artifactType, tt.ann, st, probe, tt.want, tt.probe)
		}
	}
}
