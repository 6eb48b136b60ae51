package policy

// Evidence is what is known about one container image: its reference, and
// what the registry showed of it (labels, SBOM packages). It is built by
// package sdkdetect; with no registry access it holds only the reference.
type Evidence struct {
	Ref ImageRef
	// Digest is the manifest digest the registry lookup read ("sha256:…"):
	// Ref's own digest, or the one its tag pointed at. Empty when no
	// registry lookup succeeded.
	Digest string
	// Labels are the image config labels (of any platform; version labels do
	// not differ between platforms of one release).
	Labels map[string]string
	// Packages are the catalogued packages found in the image's SBOMs, of
	// every platform read.
	Packages []Package
	// SBOM is the source of the SBOM that was read ("sbom:spdx-referrer"),
	// empty when no SBOM was found or none was looked for.
	SBOM string
	// Layers is SourceLayers when the image's files were read completely
	// (a layer scan of every platform asked for): packages it did not find
	// are not in the image. Empty when no complete scan was done.
	Layers string
	// LayersIncomplete says why a layer scan was not done completely ("the
	// scan stopped after 2 GiB of compressed layers", "the scan of its
	// files is under way"); empty when none was tried or it was complete.
	LayersIncomplete string
	// TagVerified says the registry confirmed that Ref's tag points at
	// Ref's digest. A tag written next to a digest is trusted to pass an
	// image only then: the runtime pulls the digest, whatever the tag says.
	TagVerified bool
	// TagUnverified says why a tag next to a digest was not confirmed
	// ("the tag v1.9.0 points at sha256:…, not at the digest"); empty when
	// registry lookups did not try.
	TagUnverified string
	// Unavailable says why registry evidence is missing when it was looked
	// for and could not be had ("registry timed out after 2s"). Empty
	// otherwise.
	Unavailable string
}

// Package is one package found for an image, with its purl identity.
type Package struct {
	Type, Namespace, Name, Version string
	// Source says where it was found: "sbom:spdx-referrer",
	// "sbom:cyclonedx-sbom-tag", "sbom:buildkit-attestation", ...
	Source string
	// Platform is the image platform it was found for ("linux/arm64"),
	// empty when the image has one platform.
	Platform string
	// File is the file it was found in, for a layer scan
	// ("/app/node_modules/@kubernetes/client-node/package.json"; a jar
	// inside a jar is "/app/app.jar!/BOOT-INF/lib/client-java-9.0.0.jar").
	File string
}

// Evidence source names that policy itself produces.
const (
	SourceTag     = "tag"
	SourceNone    = "none"
	SourcePodSpec = "pod-spec"
	// SourceLayers is a complete read of the image's files (layer scan).
	SourceLayers = "layers"
	// SourceLayerPrefix precedes a cataloger's name in a package found by a
	// layer scan: "layer:go-buildinfo".
	SourceLayerPrefix = "layer:"
	// SourceLabelPrefix precedes a label key: "label:org.opencontainers.image.version".
	SourceLabelPrefix = "label:"
)

// versionLabels are the image labels that carry an image's version, in the
// order they are trusted.
var versionLabels = [...]string{
	"org.opencontainers.image.version",
	"org.label-schema.version",
	"io.k8s.display-version",
	"version",
}

// IsVersionLabel reports whether an image label is one the policy reads for
// a version; evidence sources keep only those (image configs may carry many
// large labels, and evidence is cached per digest).
func IsVersionLabel(key string) bool {
	for _, k := range versionLabels {
		if k == key {
			return true
		}
	}
	return false
}

// Puller is who pulls an image: the namespace, service account and image
// pull secrets of the pod, whose credentials registry lookups use.
type Puller struct {
	Namespace, ServiceAccount string
	PullSecrets               []string
}
