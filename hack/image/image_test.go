package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tokenguard/tokenguard/pkg/report"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/test/corpus"
)

// The build the image tests share: both binaries, cross-compiled once per
// test binary with go build as make image builds them, and the base.
var (
	fixtureOnce sync.Once
	fixture     *imageFixture
	fixtureSkip string // why the tests that need it skip
	fixtureErr  error
	fixtureDir  string // removed by TestMain
)

type imageFixture struct {
	meta  meta
	base  *base
	bins  []binary
	built *built
}

// testMeta is the build the tests make: fixed, as make image's is.
var testMeta = meta{
	Version:  "v0.0.0-imagetest",
	Revision: "0123456789abcdef0123456789abcdef01234567",
	Created:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// getFixture builds the fixture the first time; it skips the test when the
// Go tool or the Debian packages of the base cannot be had.
func getFixture(t *testing.T) *imageFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds tokenguard for two platforms")
	}
	fixtureOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			fixtureSkip = "the go tool is not on the PATH: cannot build tokenguard"
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command("bash", "fetch-base.sh")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			fixtureSkip = fmt.Sprintf("hack/image/fetch-base.sh could not fetch the base's Debian packages (%v): %s", err, stderr.String())
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		pins, err := parsePins(basePins)
		if err != nil {
			fixtureErr = err
			return
		}
		b, err := loadBase(lines[len(lines)-1], pins, testMeta.Created)
		if err != nil {
			fixtureErr = err
			return
		}
		ctx := context.Background()
		root, err := moduleRoot(ctx, goTool)
		if err != nil {
			fixtureErr = err
			return
		}
		if fixtureDir, err = os.MkdirTemp("", "tokenguard-image-test-"); err != nil {
			fixtureErr = err
			return
		}
		fx := &imageFixture{meta: testMeta, base: b}
		for _, p := range platforms {
			path, err := goBuild(ctx, goTool, root, fixtureDir, p, testMeta.Version)
			if err != nil {
				fixtureErr = err
				return
			}
			fx.bins = append(fx.bins, binary{platform: p, path: path})
		}
		if fx.built, err = assemble(fx.meta, fx.base, fx.bins); err != nil {
			fixtureErr = err
			return
		}
		fixture = fx
	})
	switch {
	case fixtureSkip != "":
		t.Skip(fixtureSkip)
	case fixtureErr != nil:
		t.Fatal(fixtureErr)
	}
	return fixture
}

// TestImageReproducible: the same inputs give the same index and SBOMs,
// byte for byte (TestTarLayer shows that another time gives other bytes).
func TestImageReproducible(t *testing.T) {
	fx := getFixture(t)
	again, err := assemble(fx.meta, fx.base, fx.bins)
	if err != nil {
		t.Fatal(err)
	}
	for i, pair := range [][2]interface{ Digest() (v1.Hash, error) }{
		{fx.built.index, again.index}, {fx.built.sboms[0], again.sboms[0]}, {fx.built.sboms[1], again.sboms[1]},
	} {
		a, err := pair[0].Digest()
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := pair[1].Digest(); a != b {
			t.Errorf("manifest %d: two builds of the same inputs give %s and %s", i, a, b)
		}
	}
}

// TestImage builds the image as make image does, writes the OCI layout,
// pushes it to real registries on 127.0.0.1 (go-containerregistry's with
// and without the referrers API, and the CNCF distribution registry when
// installed), pulls it back, and runs the binary it holds: "tokenguard
// version", then "tokenguard check --registry" on a pod running the
// pushed image, which must find the image's own SBOM.
func TestImage(t *testing.T) {
	fx := getFixture(t)
	want, err := fx.built.index.Digest()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if err := writeLayout(dir, fx.built.layoutIndex(fx.meta.Version)); err != nil {
		t.Fatal(err)
	}
	t.Run("layout", func(t *testing.T) { checkLayout(t, dir, want, fx.meta.Version) })

	registries := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"ggcr registry with the referrers API", func(t *testing.T) string {
			return serve(t, registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
		}},
		{"ggcr registry without it (fallback tag)", func(t *testing.T) string {
			return serve(t, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
		}},
		{"distribution registry (fallback tag)", func(t *testing.T) string { return corpus.StartDistribution(t) }},
	}
	for i, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			ref, err := name.ParseReference(host + "/tokenguard/tokenguard:" + fx.meta.Version)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pushLayout(context.Background(), dir, ref)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("pushed index %s, built %s", got, want)
			}
			// The image's contents are read back from the first registry
			// only: they are the same bytes in every one.
			checkPushed(t, fx, ref, want, i == 0)
		})
	}
}

// checkLayout: index.json names the index by tag and lists one SBOM
// artifact per platform.
func checkLayout(t *testing.T, dir string, want v1.Hash, tag string) {
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1+len(platforms) {
		t.Fatalf("index.json lists %d manifests, want the index and %d SBOMs: %+v", len(im.Manifests), len(platforms), im.Manifests)
	}
	if d := im.Manifests[0]; d.Digest != want || !d.MediaType.IsIndex() || d.Annotations[annRefName] != tag {
		t.Errorf("index.json's first entry: %+v, want the index %s named %q", d, want, tag)
	}
	for _, d := range im.Manifests[1:] {
		if d.ArtifactType != sbomMediaType || !d.MediaType.IsImage() {
			t.Errorf("index.json entry %+v: want an SBOM artifact", d)
		}
	}
}

// checkPushed pulls the image at ref: the index, its platforms and
// annotations, and each platform image's SBOM; with contents, each platform
// image's config and files too, and "tokenguard version" from the image.
// Then "tokenguard check" on the image.
func checkPushed(t *testing.T, fx *imageFixture, ref name.Reference, want v1.Hash, contents bool) {
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := idx.Digest(); d != want {
		t.Errorf("pulled index %s, pushed %s", d, want)
	}
	if !reflect.DeepEqual(im.Annotations, labels(fx.meta)) {
		t.Errorf("index annotations %v, want %v", im.Annotations, labels(fx.meta))
	}
	var gotPlatforms []string
	for _, d := range im.Manifests {
		if d.Platform != nil {
			gotPlatforms = append(gotPlatforms, d.Platform.String())
		}
	}
	if !slices.Equal(gotPlatforms, []string{"linux/amd64", "linux/arm64"}) || len(im.Manifests) != len(fx.bins) {
		t.Fatalf("index platforms %v, want linux/amd64 and linux/arm64", gotPlatforms)
	}
	var hostBinary string
	var hostBuild *debug.BuildInfo
	for i, d := range im.Manifests {
		p, bin := *d.Platform, fx.bins[i]
		bi, err := buildinfo.ReadFile(bin.path)
		if err != nil {
			t.Fatal(err)
		}
		checkSBOM(t, ref.Context().Digest(d.Digest.String()), p, bi)
		if contents {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			bin.path = checkPlatformImage(t, fx, img, p, bin.path)
		}
		if p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH {
			hostBinary, hostBuild = bin.path, bi
		}
	}
	if hostBinary == "" {
		t.Logf("no image for %s/%s: the binary is not run", runtime.GOOS, runtime.GOARCH)
		return
	}
	if contents {
		checkVersion(t, hostBinary, fx.meta.Version)
	}
	checkOwnSBOM(t, hostBinary, ref.Context().Digest(want.String()), hostBuild)
}

// checkPlatformImage checks the config and the files of one platform
// image, whose binary must be the one built (at built); it returns the
// binary extracted from the image.
func checkPlatformImage(t *testing.T, fx *imageFixture, img v1.Image, p v1.Platform, built string) string {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	var ports []string
	for port := range c.ExposedPorts {
		ports = append(ports, port)
	}
	slices.Sort(ports)
	for _, ck := range []struct {
		what      string
		got, want any
	}{
		{"os/architecture", cf.OS + "/" + cf.Architecture, p.String()},
		{"created", cf.Created.Time.UTC(), fx.meta.Created},
		{"user", c.User, "65532:65532"},
		{"entrypoint", c.Entrypoint, []string{"/tokenguard"}},
		{"cmd", c.Cmd, []string{"serve"}},
		{"exposed ports", ports, []string{"8443/tcp", "9090/tcp"}},
		{"working dir", c.WorkingDir, "/home/nonroot"},
		{"version label", c.Labels["org.opencontainers.image.version"], fx.meta.Version},
		{"revision label", c.Labels["org.opencontainers.image.revision"], fx.meta.Revision},
		{"source label", c.Labels["org.opencontainers.image.source"], "https://github.com/tokenguard/tokenguard"},
		{"title label", c.Labels["org.opencontainers.image.title"], "tokenguard"},
		{"created label", c.Labels["org.opencontainers.image.created"], fx.meta.Created.Format(time.RFC3339)},
	} {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s: %s is %v, want %v", p.String(), ck.what, ck.got, ck.want)
		}
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 {
		t.Fatalf("%s: %d layers, want the base and the binary", p.String(), len(layers))
	}
	files := map[string]*tar.Header{}
	contents := map[string][]byte{}
	for _, l := range layers {
		readLayer(t, l, files, contents)
	}
	for _, ck := range []struct {
		name string
		typ  byte
		mode int64
		uid  int
	}{
		{"etc/passwd", tar.TypeReg, 0o644, 0},
		{"etc/group", tar.TypeReg, 0o644, 0},
		{caBundlePath, tar.TypeReg, 0o644, 0},
		{"tmp/", tar.TypeDir, 0o1777, 0},
		{"home/nonroot/", tar.TypeDir, 0o700, 65532},
		{"tokenguard", tar.TypeReg, 0o755, 0},
	} {
		h := files[ck.name]
		switch {
		case h == nil:
			t.Errorf("%s: no /%s", p.String(), ck.name)
		case h.Typeflag != ck.typ || h.Mode != ck.mode || h.Uid != ck.uid:
			t.Errorf("%s: /%s is type %c mode %o uid %d, want %c %o %d", p.String(), ck.name, h.Typeflag, h.Mode, h.Uid, ck.typ, ck.mode, ck.uid)
		}
	}
	for name, h := range files {
		if !h.ModTime.Equal(fx.meta.Created) {
			t.Errorf("%s: /%s has mtime %s, want the build time %s", p.String(), name, h.ModTime, fx.meta.Created)
		}
	}
	if !bytes.Contains(contents["etc/passwd"], []byte("\nnonroot:x:65532:65532:nonroot:/home/nonroot:")) ||
		!bytes.Contains(contents["etc/group"], []byte("\nnonroot:x:65532:")) {
		t.Errorf("%s: no nonroot user or group:\n%s%s", p.String(), contents["etc/passwd"], contents["etc/group"])
	}
	if n, err := countCerts(contents[caBundlePath]); err != nil || n != fx.base.certs || n < 100 {
		t.Errorf("%s: CA bundle holds %d certificates (%v), want the %d of the package", p.String(), n, err, fx.base.certs)
	}

	if want, err := os.ReadFile(built); err != nil || !bytes.Equal(contents["tokenguard"], want) {
		t.Errorf("%s: /tokenguard is not the binary built (%v)", p.String(), err)
	}
	bin := filepath.Join(t.TempDir(), "tokenguard")
	if err := os.WriteFile(bin, contents["tokenguard"], 0o755); err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	machine := ef.Machine
	ef.Close()
	if wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[p.Architecture]; machine != wantMachine {
		t.Errorf("%s: the binary is for %v", p.String(), machine)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkBuild(bi, p); err != nil {
		t.Errorf("%s: %v", p.String(), err)
	}
	return bin
}

// readLayer adds the entries of a layer to files and the regular files'
// contents to contents.
func readLayer(t *testing.T, l v1.Layer, files map[string]*tar.Header, contents map[string][]byte) {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if files[h.Name] != nil {
			t.Errorf("/%s is in two layers", h.Name)
		}
		files[h.Name] = h
		if h.Typeflag == tar.TypeReg {
			if contents[h.Name], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkSBOM: the platform image has one referrer, an SPDX SBOM whose purls
// are those of the binary's modules.
func checkSBOM(t *testing.T, image name.Digest, p v1.Platform, bi *debug.BuildInfo) {
	t.Helper()
	refs, err := remote.Referrers(image)
	if err != nil {
		t.Fatal(err)
	}
	rim, err := refs.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(rim.Manifests) != 1 {
		t.Fatalf("%s: %d referrers, want the SBOM: %+v", p.String(), len(rim.Manifests), rim.Manifests)
	}
	got, err := remote.Get(image.Context().Digest(rim.Manifests[0].Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(got.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != sbomMediaType || m.Subject == nil || m.Subject.Digest.String() != image.DigestStr() || len(m.Layers) != 1 || m.Layers[0].MediaType != sbomMediaType {
		t.Fatalf("%s: the referrer is not an SPDX SBOM of the image: %s", p.String(), got.Manifest)
	}
	blob, err := remote.Layer(image.Context().Digest(m.Layers[0].Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := blob.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sdkdetect.ParseSBOM(bytes.NewReader(doc), sbomMediaType, 0, nil)
	if err != nil {
		t.Fatalf("%s: tokenguard's SBOM parser: %v", p.String(), err)
	}
	if sb.Format != sdkdetect.SBOMFormatSPDX || sb.InvalidPURLs != 0 || sb.PURLs != sb.Entries {
		t.Errorf("%s: SBOM read as %s with %d entries, %d purls, %d invalid", p.String(), sb.Format, sb.Entries, sb.PURLs, sb.InvalidPURLs)
	}
	have := map[string]string{}
	for _, pk := range sb.Packages {
		if pk.Type == "golang" {
			have[strings.TrimPrefix(pk.Namespace+"/"+pk.Name, "/")] = pk.Version
		}
	}
	for _, dep := range bi.Deps {
		if have[dep.Path] != dep.Version {
			t.Errorf("%s: the SBOM has %s at %q, the binary %q", p.String(), dep.Path, have[dep.Path], dep.Version)
		}
	}
	if len(bi.Deps) < 20 {
		t.Errorf("%s: the binary lists only %d modules", p.String(), len(bi.Deps))
	}
}

// checkVersion runs "tokenguard version".
func checkVersion(t *testing.T, bin, version string) {
	t.Helper()
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("tokenguard version: %v\n%s", err, out)
	}
	if first, _, _ := strings.Cut(string(out), "\n"); first != "tokenguard "+version {
		t.Errorf("tokenguard version printed %q, want \"tokenguard %s\"", out, version)
	}
}

// checkOwnSBOM runs "tokenguard check --registry" from the image on a pod
// running the image by digest: it must find the SBOM attached to the
// image and the client-go version the binary links, in the SBOM of the
// first platform.
func checkOwnSBOM(t *testing.T, bin string, image name.Digest, bi *debug.BuildInfo) {
	t.Helper()
	clientGo := ""
	for _, dep := range bi.Deps {
		if dep.Path == "k8s.io/client-go" {
			clientGo = dep.Version
		}
	}
	if clientGo == "" {
		t.Fatal("the binary does not link k8s.io/client-go: the check below has nothing catalogued to find")
	}
	dir := t.TempDir()
	pod := filepath.Join(dir, "pod.yaml")
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: tokenguard, namespace: default}\nspec:\n  containers:\n  - name: webhook\n    image: " + image.String() + "\n"
	if err := os.WriteFile(pod, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check", "-o", "json", "--registry", "--insecure-registry", image.RegistryStr(), pod)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dir) // no credentials
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tokenguard check: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var r report.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("check -o json: %v\n%s", err, stdout.String())
	}
	if len(r.Results) != 1 {
		t.Fatalf("check judged %d workloads:\n%s", len(r.Results), stdout.String())
	}
	var found bool
	for _, f := range r.Results[0].Findings {
		if f.Component != "k8s.io/client-go" {
			continue
		}
		found = true
		if f.Source != "sbom:spdx-referrer" || f.Version != clientGo || f.Platform != "linux/amd64" || f.Verdict != "ok" {
			t.Errorf("client-go finding: source %q, version %q, platform %q, verdict %q; want sbom:spdx-referrer, %s, linux/amd64, ok",
				f.Source, f.Version, f.Platform, f.Verdict, clientGo)
		}
	}
	if !found {
		t.Errorf("check did not find client-go in the image's SBOM:\n%s%s", stdout.String(), stderr.String())
	}
}

// serve runs h on 127.0.0.1 until the test ends and returns its host:port.
func serve(t *testing.T, h http.Handler) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}
