package imageref

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// This file holds Parse against go-containerregistry's name.ParseReference,
// the grammar it was measured against (docs/libraries-glob-imageref.md):
// where the two disagree, and what each costs.

// ggcrView is what name.ParseReference makes of a reference, in Parse's
// terms: "" when it refuses it.
func ggcrView(s string) string {
	ref, err := name.ParseReference(s)
	if err != nil {
		return ""
	}
	reg := ref.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = DockerHub
	}
	id := ":" + ref.Identifier()
	if _, ok := ref.(name.Digest); ok {
		id = "@" + ref.Identifier()
	}
	return reg + "/" + ref.Context().RepositoryStr() + id
}

// parseView is what Parse makes of a reference, spelt as ggcrView spells
// it (a missing tag is "latest" when there is no digest either): "" when
// it refuses it.
func parseView(s string) string {
	r, err := Parse(s)
	if err != nil {
		return ""
	}
	id := ""
	switch {
	case r.Tag != "":
		id = ":" + r.Tag
	case r.Digest == "":
		id = ":latest"
	}
	if r.Digest != "" {
		id += "@" + r.Digest
	}
	return r.Registry + "/" + r.Repository + id
}

// TestGGCRAgrees lists references both grammars read alike.
func TestGGCRAgrees(t *testing.T) {
	for _, s := range []string{
		"nginx", "nginx:1.27", "docker.io/nginx", "docker.io/library/nginx:latest", "index.docker.io/coredns/coredns:1.8.0",
		"localhost/x", "localhost:5000/x:y", "localhost:5000", "127.0.0.1:5000/a/b@sha256:" + hex64,
		"[::1]:5000/x:1", "[fe80::1]/x", "Example.COM/team/app", "a.b/c__d/e-f---g/h_i.j:T_1.x-y", "x:_1",
		"ghcr.io/acme/api@sha384:" + hex96, "ghcr.io/acme/api@sha512:" + hex128,
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1",
		"918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/eks/coredns:v1.11.1-eksbuild.9",
		"public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1", "registry.k8s.io/coredns/coredns:v1.11.1",
		"fluent/fluentd-kubernetes-daemonset:v1.14.6-debian-cloudwatch-1.1",
		// Rejected by both.
		"Nginx", "ghcr.io/Acme/api:1", "acme/API", "nginx:", "nginx:1+2", "nginx@", "nginx@md5:" + hex64[:32],
		"nginx@sha256:abc", "nginx@sha256:" + strings.ToUpper(hex64), ":tag", "ghcr.io/", "ghcr.io/a b",
		"localhost:abc/x", "[::1/x", "[::g]:5000/x", "[::1]x:5/y", "ghcr.io/" + strings.Repeat("a", 256),
	} {
		if got, want := ggcrView(s), parseView(s); got != want {
			t.Errorf("%q: ggcr %q, Parse %q", s, got, want)
		}
	}
}

// TestGGCRDiffers pins where name.ParseReference (v0.22.1) reads a
// reference otherwise than Parse, the reasons Parse is not built on it.
// If ggcr changes, this test says which reason went away.
func TestGGCRDiffers(t *testing.T) {
	tests := []struct {
		name, in, ggcr string
	}{
		// Docker Hub aliases: ggcr folds only "docker.io", in lower case,
		// and adds "library/" only on index.docker.io.
		{"hub alias registry-1", "registry-1.docker.io/busybox", "registry-1.docker.io/busybox:latest"},
		{"hub alias in upper case", "Index.Docker.IO/nginx", "Index.Docker.IO/nginx:latest"},
		// An uppercase first component is a host to Docker, a (refused)
		// repository to ggcr.
		{"uppercase host without dot", "MyRegistry/app", ""},
		// ggcr keeps the digest of name:tag@digest and drops the tag.
		{"tag and digest", "nginx:1.27@sha256:" + hex64, "docker.io/library/nginx@sha256:" + hex64},
		// ggcr checks characters, not Docker's component grammar, and not
		// host names.
		{"tag starting with '-'", "nginx:-1", "docker.io/library/nginx:-1"},
		{"empty path component", "ghcr.io/a//b", "ghcr.io/a//b:latest"},
		{"leading slash", "/nginx", "docker.io//nginx:latest"},
		{"trailing separator", "a-/b", "docker.io/a-/b:latest"},
		{"double dot", "a..b", "docker.io/library/a..b:latest"},
		{"triple underscore", "a___b", "docker.io/library/a___b:latest"},
		{"empty port", "localhost:/x", "localhost:/x:latest"},
		{"bad host label", "a..b/x", "a..b/x:latest"},
		{"host with underscore", "a_b.c/x", "a_b.c/x:latest"},
		// An image ID is a repository name to ggcr.
		{"image ID", hex64, "docker.io/library/" + hex64 + ":latest"},
		// ggcr bounds the repository before "library/" is added.
		{"official repository of 248 bytes", strings.Repeat("a", 248), "docker.io/library/" + strings.Repeat("a", 248) + ":latest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ggcrView(tt.in)
			if got != tt.ggcr {
				t.Errorf("ggcr reads %q as %q, want %q", tt.in, got, tt.ggcr)
			}
			if p := parseView(tt.in); p == got {
				t.Errorf("Parse and ggcr now agree on %q: %q", tt.in, p)
			}
		})
	}
}

// TestGGCRErrorsSayLess pins the other reason: ggcr's error names the
// reference but not what is wrong with it.
func TestGGCRErrorsSayLess(t *testing.T) {
	for _, s := range []string{"Nginx", "nginx:1+2", "nginx@sha256:abc", "localhost:abc/x"} {
		_, err := name.ParseReference(s)
		if err == nil || err.Error() != "could not parse reference: "+s {
			t.Errorf("name.ParseReference(%q) error = %v", s, err)
		}
	}
}

var sinkGGCR name.Reference

// BenchmarkParseVsGGCR compares Parse with name.ParseReference on the
// references of BenchmarkParse. Compare with
// `benchstat -col /impl`.
func BenchmarkParseVsGGCR(b *testing.B) {
	for _, r := range benchRefs {
		b.Run("ref="+r.name+"/impl=imageref", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ref, err := Parse(r.ref)
				if err != nil {
					b.Fatal(err)
				}
				sinkRef = ref
			}
		})
		b.Run("ref="+r.name+"/impl=ggcr", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ref, err := name.ParseReference(r.ref)
				if err != nil {
					b.Fatal(err)
				}
				sinkGGCR = ref
			}
		})
	}
}
