package corpus

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Platforms of the corpus images.
const (
	amd64 = "linux/amd64"
	arm64 = "linux/arm64"
)

// Build makes the corpus images from the artifacts in dir (DefaultDir()
// when dir is empty). It skips the test when the artifacts are not there
// ("run hack/layer-corpus.sh"). The Go programs are built into dir/gobin
// on first use (a few minutes, from the Go module proxy); the large image's
// 320 MiB layer is copied from the host's /usr into t.TempDir each call.
func Build(t testing.TB, dir string) []Image {
	t.Helper()
	if dir == "" {
		dir = DefaultDir()
	}
	if miss := missingArtifacts(dir); len(miss) > 0 {
		t.Skipf("the layer-scanning corpus is not in %s (missing %s): run hack/layer-corpus.sh", dir, strings.Join(miss, ", "))
	}
	start := time.Now()
	b := &builder{t: t, dir: dir}
	imgs := b.all()
	for i := range imgs {
		for j := range imgs[i].Want {
			if imgs[i].Want[j].Platform == "" {
				imgs[i].Want[j].Platform = amd64
			}
		}
		for j := range imgs[i].Absent {
			if imgs[i].Absent[j].Platform == "" {
				imgs[i].Absent[j].Platform = amd64
			}
		}
	}
	t.Logf("layer corpus: %d images from %s in %v", len(imgs), dir, time.Since(start).Round(time.Millisecond))
	return imgs
}

// builder holds what the image recipes share.
type builder struct {
	t   testing.TB
	dir string
}

func (b *builder) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("building the layer corpus: %v", err)
	}
}

// artifact returns the artifacts.txt entry and its file's bytes.
func (b *builder) artifact(kind, name, versionPrefix string) (artifact, []byte) {
	b.t.Helper()
	a, err := find(kind, name, versionPrefix)
	b.must(err)
	data, err := os.ReadFile(filepath.Join(b.dir, a.file()))
	b.must(err)
	return a, data
}

// npm unpacks an npm tarball into dest ("/app/node_modules/@kubernetes/client-node")
// and returns the package at dest/package.json.
func (b *builder) npm(l *tarLayer, name, versionPrefix, dest string) WantPackage {
	b.t.Helper()
	a, data := b.artifact("npm", name, versionPrefix)
	zr, err := gzip.NewReader(bytes.NewReader(data))
	b.must(err)
	l.copyTar(zr, 1, dest, nil)
	b.must(l.err)
	return npmPackage(name, a.version, filepath.Join(dest, "package.json"))
}

// deb copies a Debian package's files and returns its artifact.
func (b *builder) deb(l *tarLayer, name string) artifact {
	b.t.Helper()
	a, data := b.artifact("deb", name, "")
	l.copyTar(bytes.NewReader(data), 0, "/", nil)
	b.must(l.err)
	return a
}

// dpkgStatusLayer is /var/lib/dpkg/status listing the packages, as dpkg
// leaves it after installing them.
func (b *builder) dpkgStatusLayer(debs ...artifact) *tarLayer {
	b.t.Helper()
	var controls [][]byte
	for _, a := range debs {
		c, err := os.ReadFile(filepath.Join(b.dir, a.control()))
		b.must(err)
		controls = append(controls, c)
	}
	l := newTarLayer()
	l.file("/var/lib/dpkg/status", 0o644, dpkgStatus(controls...))
	return l
}

func npmPackage(name, version, path string) WantPackage {
	ns, n := "", name
	if i := strings.IndexByte(name, '/'); i > 0 && name[0] == '@' {
		ns, n = name[:i], name[i+1:]
	}
	return WantPackage{Type: "npm", Namespace: ns, Name: n, Version: version, Path: path}
}

// format is an image's manifest and layer media types.
type format int

const (
	docker format = iota
	oci
)

func (f format) layerType() types.MediaType {
	if f == oci {
		return types.OCILayer
	}
	return types.DockerLayer
}

// layers turns tar layers into gzip layers of the format.
func (b *builder) layers(f format, ls ...*tarLayer) []v1.Layer {
	b.t.Helper()
	out := make([]v1.Layer, 0, len(ls))
	for _, l := range ls {
		layer, err := l.layer(gzipped, f.layerType())
		b.must(err)
		out = append(out, layer)
	}
	return out
}

// image stacks the layers on an empty image of the format and platform,
// with the configuration a build would give it.
func (b *builder) image(f format, platform string, entrypoint []string, layers ...v1.Layer) v1.Image {
	b.t.Helper()
	base := empty.Image
	if f == oci {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	img, err := mutate.AppendLayers(base, layers...)
	b.must(err)
	cf, err := img.ConfigFile()
	b.must(err)
	cf = cf.DeepCopy()
	p, err := v1.ParsePlatform(platform)
	b.must(err)
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.Entrypoint = entrypoint
	img, err = mutate.ConfigFile(img, cf)
	b.must(err)
	return img
}

// all is the corpus, one recipe per image.
func (b *builder) all() []Image {
	var imgs []Image
	imgs = append(imgs, b.goImages()...)
	imgs = append(imgs, b.nodeImages()...)
	imgs = append(imgs, b.pythonImages()...)
	imgs = append(imgs, b.javaImages()...)
	imgs = append(imgs, b.dotnetImage(), b.rubyImage(), b.noSDKImage(), b.zstdImage(), b.largeImage())
	return imgs
}
