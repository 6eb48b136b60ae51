package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// binary is the tokenguard binary built for one platform.
type binary struct {
	platform v1.Platform
	path     string
}

// built is the image: the index of the platform images, and the SBOM
// artifacts, one per platform image, each referring to its image.
type built struct {
	index v1.ImageIndex
	sboms []v1.Image
}

// assemble makes the image of the binaries on the base: two layers per
// platform (the base, shared, then the binary), the index in the binaries'
// order, annotated with the labels. The platforms are built side by side
// (compressing a binary takes most of the time); the result does not
// depend on which finishes first.
func assemble(m meta, b *base, bins []binary) (*built, error) {
	adds := make([]mutate.IndexAddendum, len(bins))
	sboms := make([]v1.Image, len(bins))
	var g errgroup.Group
	for i, bin := range bins {
		g.Go(func() error {
			img, sbom, err := platformBuild(m, b, bin)
			if err != nil {
				return fmt.Errorf("%s: %w", bin.platform.String(), err)
			}
			p := bin.platform
			adds[i] = mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}}
			sboms[i] = sbom
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	idx = mutate.Annotations(idx, labels(m)).(v1.ImageIndex)
	return &built{index: idx, sboms: sboms}, nil
}

// platformBuild makes the image of one binary, and its SBOM artifact.
func platformBuild(m meta, b *base, bin binary) (v1.Image, v1.Image, error) {
	p := bin.platform
	data, err := os.ReadFile(bin.path)
	if err != nil {
		return nil, nil, err
	}
	bi, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", bin.path, err)
	}
	if err := checkBuild(bi, p); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", bin.path, err)
	}
	layer, err := tarLayer([]tarEntry{{Name: strings.TrimPrefix(binaryPath, "/"), Mode: 0o755, Data: data}}, m.Created)
	if err != nil {
		return nil, nil, err
	}
	img, err := platformImage(m, p, b, layer)
	if err != nil {
		return nil, nil, err
	}
	desc, err := partial.Descriptor(img)
	if err != nil {
		return nil, nil, err
	}
	binDigest, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	doc, err := spdxJSON(sbomInput{meta: m, platform: p, image: desc.Digest, binary: binDigest, build: bi, debs: b.packages})
	if err != nil {
		return nil, nil, err
	}
	subject := v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	sbom, err := newArtifact(sbomMediaType, sbomMediaType, sbomFileName, doc, subject, m.Created)
	if err != nil {
		return nil, nil, err
	}
	return img, sbom, nil
}

// checkBuild fails unless the binary is a static build for p.
func checkBuild(bi *debug.BuildInfo, p v1.Platform) error {
	want := []debug.BuildSetting{{Key: "GOOS", Value: p.OS}, {Key: "GOARCH", Value: p.Architecture}, {Key: "CGO_ENABLED", Value: "0"}, {Key: "-trimpath", Value: "true"}}
	for _, w := range want {
		got, found := "", false
		for _, s := range bi.Settings {
			if s.Key == w.Key {
				got, found = s.Value, true
			}
		}
		switch {
		case !found:
			return fmt.Errorf("build information lacks %s (want %s)", w.Key, w.Value)
		case got != w.Value:
			return fmt.Errorf("built with %s=%s, want %s", w.Key, got, w.Value)
		}
	}
	return nil
}

// platformImage is the image of platform p: the base layer, then the
// binary's layer.
func platformImage(m meta, p v1.Platform, b *base, binLayer v1.Layer) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.ConfigFile(img, configFile(m, p))
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, d := range b.packages {
		pkgs = append(pkgs, d.Name+" "+d.Version)
	}
	created := v1.Time{Time: m.Created.UTC()}
	return mutate.Append(img,
		mutate.Addendum{Layer: b.layer, MediaType: types.OCILayer, History: v1.History{
			Created: created, CreatedBy: "hack/image: base (/etc/passwd, /etc/group, /tmp, CA certificates)",
			Comment: "Debian " + strings.Join(pkgs, ", "),
		}},
		mutate.Addendum{Layer: binLayer, MediaType: types.OCILayer, History: v1.History{
			Created: created, CreatedBy: "hack/image: COPY tokenguard " + binaryPath,
		}},
	)
}

// layoutIndex is the index.json of the OCI layout: the image index, named
// by tag (org.opencontainers.image.ref.name), then the SBOM artifacts.
func (b *built) layoutIndex(tag string) v1.ImageIndex {
	adds := []mutate.IndexAddendum{{Add: b.index, Descriptor: v1.Descriptor{Annotations: map[string]string{annRefName: tag}}}}
	for _, s := range b.sboms {
		adds = append(adds, mutate.IndexAddendum{Add: s, Descriptor: v1.Descriptor{ArtifactType: sbomMediaType}})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}
