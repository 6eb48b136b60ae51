package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The OCI 1.1 empty config ("{}") of artifacts that have no config.
var (
	emptyConfig     = []byte("{}")
	emptyConfigType = types.MediaType("application/vnd.oci.empty.v1+json")
)

// artifact is an OCI 1.1 artifact manifest: an image manifest with an
// artifactType, the empty config and one blob, referring to subject. ggcr's
// mutate package writes no artifactType on image manifests, hence this
// type; partial.CompressedToImage makes it a v1.Image for remote.Write and
// layout, which upload the config and the blob, and remote.Write updates
// the referrers (the referrers API, or the "sha256-<hex>" fallback tag on
// registries without it).
type artifact struct {
	manifest []byte
	blob     v1.Layer
}

// newArtifact returns the artifact of artifactType holding data (of media
// type mediaType, named fileName) that refers to subject.
func newArtifact(artifactType string, mediaType types.MediaType, fileName string, data []byte, subject v1.Descriptor, created time.Time) (v1.Image, error) {
	blob := static.NewLayer(data, mediaType)
	desc, err := partial.Descriptor(blob)
	if err != nil {
		return nil, err
	}
	desc.Annotations = map[string]string{annTitle: fileName}
	cfgDigest, cfgSize, err := v1.SHA256(bytes.NewReader(emptyConfig))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Config:        v1.Descriptor{MediaType: emptyConfigType, Digest: cfgDigest, Size: cfgSize, Data: emptyConfig},
		Layers:        []v1.Descriptor{*desc},
		Subject:       &subject,
		Annotations:   map[string]string{annCreated: created.UTC().Format(time.RFC3339)},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&artifact{manifest: raw, blob: blob})
}

func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }
func (a *artifact) RawConfigFile() ([]byte, error)      { return emptyConfig, nil }

func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	d, err := a.blob.Digest()
	if err != nil {
		return nil, err
	}
	if h != d {
		return nil, fmt.Errorf("artifact has no blob %s", h)
	}
	return a.blob, nil
}
