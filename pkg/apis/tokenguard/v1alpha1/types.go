package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Caps keep an ImageEvidence small (under 2 KB of JSON for a typical
// image; about 85 KB when every list and string is full, as
// pkg/imageevidence's TestAPIServer measures) so that an informer over
// thousands of them stays cheap. The CRD's schema
// (deploy/crds/tokenguard.io_imageevidences.yaml) declares the same
// maxItems/maxLength (in characters; the caps here are bytes, so a string
// within one is within the other), and a test holds the two together.
// pkg/imageevidence never writes past them: lists are capped, descriptive
// strings (reasons, file paths, image references, the summary) are cut
// short with "…", and identifiers that cannot be cut (a purl, a tag
// reference) are left out.
const (
	// MaxImages bounds spec.images.
	MaxImages = 4
	// MaxImageLength bounds an image reference (spec.images,
	// status.tags[].image): a registry host, a 255-byte repository and a
	// 128-byte tag fit.
	MaxImageLength = 1024
	// MaxPackages bounds status.packages. Past it, packages that decide no
	// finding are left out first (see pkg/imageevidence), and
	// status.packagesOmitted counts those left out.
	MaxPackages = 32
	// MaxTypeLength bounds a package's purl type ("golang", "npm").
	MaxTypeLength = 32
	// MaxNameLength bounds a package's namespace and name.
	MaxNameLength = 256
	// MaxVersionLength bounds a package version and a version label's value.
	MaxVersionLength = 128
	// MaxPURLLength bounds a package URL.
	MaxPURLLength = 1024
	// MaxSourceLength bounds an evidence source name ("sbom:spdx-referrer",
	// "layer:go-buildinfo", "layers").
	MaxSourceLength = 128
	// MaxFileLength bounds the file a package was found in.
	MaxFileLength = 1024
	// MaxPlatformLength bounds a platform ("linux/arm64/v8").
	MaxPlatformLength = 64
	// MaxPlatforms bounds status.platforms.
	MaxPlatforms = 16
	// MaxLabels bounds status.labels: only the version labels the policy
	// reads are kept, and there are four.
	MaxLabels = 4
	// MaxLabelKeyLength bounds a label key.
	MaxLabelKeyLength = 64
	// MaxReasonLength bounds a reason (unavailable, layersIncomplete, a
	// tag's reason).
	MaxReasonLength = 1024
	// MaxTags bounds status.tags.
	MaxTags = 4
	// MaxCatalogVersionLength bounds status.catalogVersion.
	MaxCatalogVersionLength = 64
	// MaxSummaryLength bounds status.summary.
	MaxSummaryLength = 256
)

// Scan outcomes of status.scan.
const (
	// ScanComplete: every file of the image was read (status.layers set).
	ScanComplete = "complete"
	// ScanIncomplete: a layer scan was tried and did not read every file
	// (status.layersIncomplete says why).
	ScanIncomplete = "incomplete"
)

// ImageEvidence is what tokenguard found in one image, named by its
// manifest digest: the catalogued packages of its SBOMs and files, its
// version labels, and how the lookup went. It is cluster-scoped, named
// "<algorithm>-<hex>" after spec.digest (ObjectName), written by
// `tokenguard controller` and read by every `tokenguard serve` replica as
// a second-level cache, so that a registry lookup or a layer scan done once
// serves every replica and survives restarts.
//
// When not to reuse one (pkg/imageevidence: Current, Final): evidence
// written under another catalog version than the reader's must be refreshed
// before use (only the packages its catalog knew were kept); evidence with
// status.unavailable or status.layersIncomplete set is provisional, not
// final: a reader should look the image up itself.
type ImageEvidence struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageEvidenceSpec   `json:"spec"`
	Status ImageEvidenceStatus `json:"status,omitempty"`
}

// ImageEvidenceSpec names the image.
type ImageEvidenceSpec struct {
	// Digest is the image's manifest digest (an index's for a
	// multi-platform image): "sha256:<64 hex digits>" (sha384 and sha512
	// are accepted too). It is immutable: the object's name is made from
	// it.
	Digest string `json:"digest"`
	// Images are a few references this digest was seen running under,
	// "registry/repository[:tag]", for people reading the object; at most
	// MaxImages, the most recent first.
	Images []string `json:"images,omitempty"`
}

// ImageEvidenceStatus is what was found, as of ObservedTime.
type ImageEvidenceStatus struct {
	// Packages are the catalogued packages found in the image's SBOMs and
	// files (a package the catalog does not know is not stored), in the
	// order the lookup found them; at most MaxPackages.
	Packages []Package `json:"packages,omitempty"`
	// PackagesOmitted counts the catalogued packages left out to stay
	// within MaxPackages; those left out decided no finding under
	// CatalogVersion.
	PackagesOmitted int32 `json:"packagesOmitted,omitempty"`
	// Labels are the image's version labels (the labels the policy reads,
	// such as org.opencontainers.image.version); other labels are not
	// stored.
	Labels map[string]string `json:"labels,omitempty"`
	// SBOM is the source of the SBOM read ("sbom:spdx-referrer"); empty
	// when none was found.
	SBOM string `json:"sbom,omitempty"`
	// Layers is "layers" when every file of the image was read (a complete
	// layer scan): a catalogued package it did not find is not in the
	// image. Empty otherwise.
	Layers string `json:"layers,omitempty"`
	// LayersIncomplete says why a layer scan did not read every file; empty
	// when none was tried or it was complete. Evidence with it is not
	// final.
	LayersIncomplete string `json:"layersIncomplete,omitempty"`
	// Scan is the layer scan's outcome for printing: "complete",
	// "incomplete", or empty when none was tried. It follows Layers and
	// LayersIncomplete, which readers use.
	Scan string `json:"scan,omitempty"`
	// Unavailable says why registry evidence could not be had ("registry
	// timed out after 2s"); empty when the lookup succeeded. Evidence with
	// it is not final.
	Unavailable string `json:"unavailable,omitempty"`
	// Tags are the registry's answers, as of ObservedTime, to whether a tag
	// named beside this digest points at it; at most MaxTags. Tags move: a
	// reader with its own tag lookups may prefer their answers.
	Tags []TagCheck `json:"tags,omitempty"`
	// Platforms are the image platforms read ("linux/amd64"), sorted; empty
	// for a single-platform image.
	Platforms []string `json:"platforms,omitempty"`
	// CatalogVersion is the version of the catalog whose packages were
	// kept (policy.Catalog.Version). Under another catalog version the
	// evidence must be refreshed before use.
	CatalogVersion string `json:"catalogVersion,omitempty"`
	// ObservedTime is when the lookup was made.
	ObservedTime *metav1.Time `json:"observedTime,omitempty"`
	// LastSeenRunning is when a pod was last seen running the digest;
	// evidence not seen running for a TTL (default 7 days) is deleted.
	LastSeenRunning *metav1.Time `json:"lastSeenRunning,omitempty"`
	// Summary is one line for `kubectl get`: the packages with their
	// versions ("k8s.io/client-go v0.14.2, npm:aws-sdk 2.524.0"), else
	// what was read and found nothing, or why nothing could be read.
	Summary string `json:"summary,omitempty"`
}

// Package is one catalogued package found in the image.
type Package struct {
	// Type, Namespace and Name are its purl identity ("golang", "k8s.io",
	// "client-go").
	Type      string `json:"type"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Version   string `json:"version,omitempty"`
	// PURL is its package URL ("pkg:golang/k8s.io/client-go@v0.14.2"),
	// for people and tools reading the object; readers of the evidence use
	// the fields above.
	PURL string `json:"purl,omitempty"`
	// Source is where it was found ("sbom:spdx-referrer",
	// "layer:go-buildinfo").
	Source string `json:"source,omitempty"`
	// File is the file it was found in, for a layer scan.
	File string `json:"file,omitempty"`
	// Platform is the image platform it was found for; empty for a
	// single-platform image.
	Platform string `json:"platform,omitempty"`
}

// TagCheck is the registry's answer to whether a tag points at the digest.
type TagCheck struct {
	// Image is the tagged reference checked: "registry/repository:tag".
	Image string `json:"image"`
	// Verified says the tag pointed at the digest.
	Verified bool `json:"verified,omitempty"`
	// Reason says why it was not verified ("the tag v1.9.0 points at
	// sha256:…, not at the digest the pod names").
	Reason string `json:"reason,omitempty"`
}

// ImageEvidenceList is a list of ImageEvidence.
type ImageEvidenceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []ImageEvidence `json:"items"`
}
