package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/certs"
)

// Registry is a real OCI registry (go-containerregistry's, with the
// referrers API) on 127.0.0.1.
type Registry struct {
	server   *httptest.Server
	Host     string
	requests atomic.Int64
}

// StartRegistry starts the registry; Close stops it.
func StartRegistry() *Registry {
	r := &Registry{}
	h := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		h.ServeHTTP(w, req)
	}))
	r.Host = strings.TrimPrefix(r.server.URL, "http://")
	return r
}

// Requests is the number of requests the registry has answered (pushes
// too).
func (r *Registry) Requests() int64 { return r.requests.Load() }

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

// PushFiles pushes an image without an SBOM as repo:tag whose layers hold
// the files given (path → content, one map a layer, in order), as an
// application image built FROM a base would; it returns the reference.
func (r *Registry) PushFiles(repo, tag string, layers ...map[string]string) (string, error) {
	ref, err := name.ParseReference(r.Host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return "", err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, files := range layers {
		l, err := FileLayer(files)
		if err != nil {
			return "", err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return "", err
		}
	}
	if err := remote.Write(ref, img); err != nil {
		return "", err
	}
	return ref.String(), nil
}

// FileLayer is a gzip-compressed tar layer of files (path → content), in
// path order; paths ending in an executable name under bin/ get mode 0755.
func FileLayer(files map[string]string) (v1.Layer, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		mode := int64(0o644)
		if strings.Contains(p, "bin/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: mode, Size: int64(len(files[p])), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, files[p]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithCompressedCaching, tarball.WithMediaType(types.OCILayer))
}

// BuildOperator builds test/e2e/operator (a program linking the project's
// client-go) for linux/amd64 into dir and returns its bytes.
func BuildOperator(dir string) ([]byte, error) {
	bin := filepath.Join(dir, "operator")
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, "./test/e2e/operator")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./test/e2e/operator: %v\n%s", err, out)
	}
	return os.ReadFile(bin)
}

// sbomRegistry starts a registry holding acme/api:1.4 with an SBOM naming
// client-go v0.14.2 (too old), and writes a configuration in work that
// looks it up; it returns the registry, the image and the configuration
// file.
func sbomRegistry(t testing.TB, work string) (*Registry, string, string) {
	t.Helper()
	reg := StartRegistry()
	t.Cleanup(reg.Close)
	image, err := reg.PushWithSBOM("acme/api", "1.4", "pkg:golang/k8s.io/client-go@v0.14.2")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(work, "tokenguard.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, "apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\n"+
		"registry:\n  enabled: true\n  timeout: 5s\n  registries: [%q]\n  insecureRegistries: [%q]\n", reg.Host, reg.Host), 0o644); err != nil {
		t.Fatal(err)
	}
	return reg, image, config
}

// auditSinkFiles are what a serve process with the audit sink needs: a
// serving certificate for 127.0.0.1, a free address for --audit-listen and
// a file of one bearer token.
type auditSinkFiles struct {
	certDir, addr, tokens, token string
	certs                        *certs.Bundle
}

func newAuditSinkFiles(t testing.TB, work string) *auditSinkFiles {
	t.Helper()
	b, err := certs.Generate([]string{"127.0.0.1", "localhost"}, time.Now().Add(-time.Minute), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := &auditSinkFiles{certDir: filepath.Join(work, "certs"), tokens: filepath.Join(work, "audit-tokens"), token: "e2e-audit-webhook-token", certs: b}
	if err := certs.WriteFiles(f.certDir, b); err != nil {
		t.Fatal(err)
	}
	if f.addr, err = FreeAddr(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.tokens, []byte(f.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// args are serve's flags for the certificate and the sink.
func (f *auditSinkFiles) args() []string {
	return []string{"--tls-cert-file", filepath.Join(f.certDir, certs.CertFile), "--tls-private-key-file", filepath.Join(f.certDir, certs.KeyFile),
		"--audit-listen", f.addr, "--audit-token-file", f.tokens}
}
