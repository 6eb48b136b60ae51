package corpus

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// watchedGoModules are the Go modules a corpus program's image wants when
// its go.mod lists them: the Go modules the layer scan reports
// (wantedPackages in pkg/sdkdetect/filecat).
var watchedGoModules = []string{
	"k8s.io/client-go",
	"github.com/aws/aws-sdk-go",
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/credentials",
}

// goModule is a module path and the version a program links.
type goModule struct{ path, version string }

// watchedModules returns the watched modules a corpus program links, in
// watchedGoModules order, at the version its go.mod selects: the
// replacement's version when a replace line names one (a directory
// replacement has none and is refused), else the requirement's. go mod
// tidy writes in go.mod every module that provides a package the program
// imports (the programs have no tests), so go.mod lists what the binary
// links; TestCorpus holds the wanted modules to the built binary's build
// info both ways.
func watchedModules(t testing.TB, prog string) []goModule {
	t.Helper()
	gomod, err := os.ReadFile(filepath.Join(sourceDir(), "testdata", "goprog", prog, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	req, repl := map[string]string{}, map[string]string{}
	directive := func(verb string, f []string) {
		switch verb {
		case "require": // path version
			if len(f) >= 2 {
				req[f[0]] = f[1]
			}
		case "replace": // old [version] => new [version]
			arrow := slices.Index(f, "=>")
			switch {
			case arrow < 1 || len(f) < arrow+2:
				t.Fatalf("testdata/goprog/%s/go.mod: cannot read replace %s", prog, strings.Join(f, " "))
			case len(f) == arrow+2:
				t.Fatalf("testdata/goprog/%s/go.mod: %s is replaced with the directory %s: no version to want", prog, f[0], f[arrow+1])
			}
			repl[f[0]] = f[arrow+2]
		}
	}
	block := "" // the verb of the ( … ) block the line is in
	for _, line := range strings.Split(string(gomod), "\n") {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case block != "" && f[0] == ")":
			block = ""
		case block != "":
			directive(block, f)
		case len(f) == 2 && f[1] == "(":
			block = f[0]
		default:
			directive(f[0], f[1:])
		}
	}
	var out []goModule
	for _, m := range watchedGoModules {
		v, ok := repl[m]
		if !ok {
			v, ok = req[m]
		}
		if ok {
			out = append(out, goModule{m, v})
		}
	}
	if len(out) == 0 {
		t.Fatalf("testdata/goprog/%s/go.mod requires none of %s", prog, strings.Join(watchedGoModules, ", "))
	}
	return out
}

// goBinaryImage is a Go program alone at path, and the watched modules it
// links there.
func (b *builder) goBinaryImage(prog, path, platform string, f format) (v1.Image, []WantPackage) {
	b.t.Helper()
	p, err := v1.ParsePlatform(platform)
	b.must(err)
	bin, err := os.ReadFile(goProgram(b.t, b.dir, prog, p.Architecture))
	b.must(err)
	l := newTarLayer()
	l.file(path, 0o755, bin)
	img := b.image(f, platform, []string{path}, b.layers(f, l)...)
	var want []WantPackage
	for _, m := range watchedModules(b.t, prog) {
		i := strings.LastIndexByte(m.path, '/')
		want = append(want, WantPackage{Type: "golang", Namespace: m.path[:i], Name: m.path[i+1:], Version: m.version, Path: path, Platform: platform})
	}
	return img, want
}

// goImages are Go programs alone in /usr/local/bin, Debian's kubectl and
// a two-platform index.
func (b *builder) goImages() []Image {
	const kubeApp, awsApp = "/usr/local/bin/kube-app", "/usr/local/bin/aws-app"
	var imgs []Image
	for _, c := range []struct{ prog, name, path, note string }{
		{"client-go-v11", "", kubeApp, "client-go at a legacy major (v11.0.0+incompatible = Kubernetes 1.14): semver ranks it above v0.15.7, yet it is older"},
		{"client-go-v0.15.7", "", kubeApp, "client-go at the documented minimum v0.15.7"},
		{"client-go-v0.37.2", "", kubeApp, "client-go v0.37.2, current"},
		{"client-go-replace-v0.36.6", "", kubeApp, "go.mod requires v0.37.2 and replaces it with v0.36.6: build info has a dep line and a => line, and the replacement is what is linked"},
		{"aws-sdk-go-v1.47.10", "", awsApp, "AWS SDK for Go v1 one patch below the EKS Pod Identity minimum v1.47.11: its aws/defaults allows only loopback hosts in AWS_CONTAINER_CREDENTIALS_FULL_URI and reads no AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, so the Pod Identity agent at 169.254.170.23 is refused"},
		{"aws-sdk-go-v1.47.11", "", awsApp, "AWS SDK for Go v1 at the EKS Pod Identity minimum v1.47.11, the first whose aws/defaults accepts the Pod Identity agent host 169.254.170.23 and its token file"},
		{"aws-sdk-go-v2-2023-11-09", "aws-sdk-go-v2-config-v1.24.0", awsApp, "AWS SDK for Go v2 of release-2023-11-09 (config v1.24.0, credentials v1.15.2), the release just below the EKS Pod Identity minimum: its container credential provider allows only loopback hosts and reads no AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"},
		{"aws-sdk-go-v2-2023-11-14", "aws-sdk-go-v2-config-v1.25.0", awsApp, "AWS SDK for Go v2 of release-2023-11-14 (config v1.25.0, credentials v1.16.0), the EKS Pod Identity minimum: the first whose config accepts 169.254.170.23 and whose credentials read the token file"},
	} {
		if c.name == "" {
			c.name = c.prog
		}
		img, want := b.goBinaryImage(c.prog, c.path, amd64, docker)
		imgs = append(imgs, Image{Name: "go/" + c.name, Image: img, Want: want, Note: c.note})
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
	amdImg, amdWant := b.goBinaryImage("client-go-v0.37.2", kubeApp, amd64, oci)
	armImg, armWant := b.goBinaryImage("client-go-v11", kubeApp, arm64, oci)
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
		Want:  append(amdWant, armWant...),
		Note:  "an index whose linux/arm64 image links client-go v11.0.0+incompatible while linux/amd64 links v0.37.2: a scan of the host's platform alone misses the old one",
	})
	return imgs
}
