package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is a real OCI registry (go-containerregistry's, with the
// referrers API) on 127.0.0.1.
type Registry struct {
	server *httptest.Server
	Host   string
}

// StartRegistry starts the registry; Close stops it.
func StartRegistry() *Registry {
	s := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	return &Registry{server: s, Host: strings.TrimPrefix(s.URL, "http://")}
}

// Close stops the registry.
func (r *Registry) Close() { r.server.Close() }

// PushWithSBOM pushes a random image as repo:tag and attaches an SPDX SBOM
// listing the purls as an OCI referrer; it returns the image reference.
func (r *Registry) PushWithSBOM(repo, tag string, purls ...string) (string, error) {
	ref, err := name.ParseReference(r.Host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return "", err
	}
	img, err := random.Image(512, 1)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img); err != nil {
		return "", err
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	size, err := img.Size()
	if err != nil {
		return "", err
	}
	mt, err := img.MediaType()
	if err != nil {
		return "", err
	}
	var pkgs []map[string]any
	for i, p := range purls {
		pkgs = append(pkgs, map[string]any{
			"SPDXID": fmt.Sprintf("SPDXRef-Package-%d", i), "name": p, "versionInfo": "",
			"externalRefs": []map[string]string{{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p}},
		})
	}
	doc, err := json.Marshal(map[string]any{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": repo, "packages": pkgs})
	if err != nil {
		return "", err
	}
	art := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), "application/spdx+json")
	art, err = mutate.AppendLayers(art, static.NewLayer(doc, "application/spdx+json"))
	if err != nil {
		return "", err
	}
	withSubject, ok := mutate.Subject(art, v1.Descriptor{MediaType: mt, Digest: digest, Size: size}).(v1.Image)
	if !ok {
		return "", fmt.Errorf("subject: not an image")
	}
	artDigest, err := withSubject.Digest()
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref.Context().Digest(artDigest.String()), withSubject); err != nil {
		return "", err
	}
	return ref.String(), nil
}
