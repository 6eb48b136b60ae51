package corpus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// clientGoVersion is the client-go version a corpus program links: its
// go.mod's replacement of k8s.io/client-go, else its requirement.
func clientGoVersion(t testing.TB, prog string) string {
	t.Helper()
	gomod, err := os.ReadFile(filepath.Join(sourceDir(), "testdata", "goprog", prog, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var req, repl string
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 5 && f[0] == "replace" && f[1] == "k8s.io/client-go" && f[2] == "=>":
			repl = f[4]
		case len(f) >= 3 && f[0] == "require" && f[1] == "k8s.io/client-go":
			req = f[2]
		case len(f) >= 2 && f[0] == "k8s.io/client-go" && strings.HasPrefix(f[1], "v"):
			req = f[1]
		}
	}
	if repl != "" {
		return repl
	}
	if req == "" {
		t.Fatalf("testdata/goprog/%s/go.mod requires no k8s.io/client-go", prog)
	}
	return req
}

// goBinaryImage is a Go program alone in /usr/local/bin.
func (b *builder) goBinaryImage(prog, platform string, f format) (v1.Image, WantPackage) {
	b.t.Helper()
	p, err := v1.ParsePlatform(platform)
	b.must(err)
	bin, err := os.ReadFile(goProgram(b.t, b.dir, prog, p.Architecture))
	b.must(err)
	const path = "/usr/local/bin/kube-app"
	l := newTarLayer()
	l.file(path, 0o755, bin)
	img := b.image(f, platform, []string{path}, b.layers(f, l)...)
	return img, WantPackage{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: clientGoVersion(b.t, prog), Path: path, Platform: platform}
}

// goImages are Go programs alone in /usr/local/bin, Debian's kubectl and
// a two-platform index.
func (b *builder) goImages() []Image {
	var imgs []Image
	for _, c := range []struct{ prog, note string }{
		{"client-go-v11", "client-go at a legacy major (v11.0.0+incompatible = Kubernetes 1.14): semver ranks it above v0.15.7, yet it is older"},
		{"client-go-v0.15.7", "client-go at the documented minimum v0.15.7"},
		{"client-go-v0.37.2", "client-go v0.37.2, current"},
		{"client-go-replace-v0.36.6", "go.mod requires v0.37.2 and replaces it with v0.36.6: build info has a dep line and a => line, and the replacement is what is linked"},
	} {
		img, want := b.goBinaryImage(c.prog, amd64, docker)
		imgs = append(imgs, Image{Name: "go/" + c.prog, Image: img, Want: []WantPackage{want}, Note: c.note})
	}

	// Debian's kubectl: client-go is in it, vendored into a GOPATH-mode
	// build, so its build info lists no dependency.
	l := newTarLayer()
	kc := b.deb(l, "kubernetes-client")
	imgs = append(imgs, Image{
		Name:  "go/debian-kubectl",
		Image: b.image(docker, amd64, []string{"/usr/bin/kubectl"}, b.layers(docker, l, b.dpkgStatusLayer(kc))...),
		Note:  "Debian's kubectl " + kc.version + ": client-go is vendored into a GOPATH-mode build, so build info records no dependency; the version is unknown from the binary and must not be invented",
	})

	// One tag, two platforms, two client-go versions.
	amdImg, amdWant := b.goBinaryImage("client-go-v0.37.2", amd64, oci)
	armImg, armWant := b.goBinaryImage("client-go-v11", arm64, oci)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, c := range []struct {
		img      v1.Image
		platform string
	}{{amdImg, amd64}, {armImg, arm64}} {
		p, err := v1.ParsePlatform(c.platform)
		b.must(err)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: c.img, Descriptor: v1.Descriptor{Platform: p}})
	}
	imgs = append(imgs, Image{
		Name:  "go/multiarch",
		Index: idx,
		Want:  []WantPackage{amdWant, armWant},
		Note:  "an index whose linux/arm64 image links client-go v11.0.0+incompatible while linux/amd64 links v0.37.2: a scan of the host's platform alone misses the old one",
	})
	return imgs
}
