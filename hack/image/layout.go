package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// writeLayout writes idx as an OCI image layout in dir, replacing what was
// there: it is written beside dir, then moved into place.
func writeLayout(dir string, idx v1.ImageIndex) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := layout.Write(tmp, idx); err != nil {
		return fmt.Errorf("writing the OCI layout: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// pushLayout pushes the OCI layout in dir to ref: its image index to ref
// (a tag), then its other manifests, the SBOM artifacts, by digest, which
// makes them referrers of their subjects. It returns the index's digest.
func pushLayout(ctx context.Context, dir string, ref name.Reference, opts ...remote.Option) (v1.Hash, error) {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	p, err := layout.FromPath(dir)
	if err != nil {
		return v1.Hash{}, err
	}
	top, err := p.ImageIndex()
	if err != nil {
		return v1.Hash{}, err
	}
	im, err := top.IndexManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	var (
		pushed    v1.Hash
		artifacts []v1.Hash
	)
	for _, d := range im.Manifests {
		switch {
		case d.MediaType.IsIndex():
			if pushed != (v1.Hash{}) {
				return v1.Hash{}, fmt.Errorf("%s holds more than one image index", dir)
			}
			idx, err := top.ImageIndex(d.Digest)
			if err != nil {
				return v1.Hash{}, err
			}
			if err := remote.WriteIndex(ref, idx, opts...); err != nil {
				return v1.Hash{}, fmt.Errorf("pushing %s: %w", ref, err)
			}
			pushed = d.Digest
		case d.MediaType.IsImage():
			artifacts = append(artifacts, d.Digest)
		}
	}
	if pushed == (v1.Hash{}) {
		return v1.Hash{}, fmt.Errorf("%s holds no image index", dir)
	}
	for _, h := range artifacts {
		img, err := top.Image(h)
		if err != nil {
			return v1.Hash{}, err
		}
		if err := remote.Write(ref.Context().Digest(h.String()), img, opts...); err != nil {
			return v1.Hash{}, fmt.Errorf("pushing the SBOM %s: %w", h, err)
		}
	}
	return pushed, nil
}
