package registry

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/tokenguard/tokenguard/pkg/imageref"
)

// TestReference checks that the reference built from a parsed image is the
// one name.ParseReference would give, except where ggcr reads Docker Hub
// aliases otherwise, and that insecure registries are marked.
func TestReference(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	s := New(Options{InsecureRegistries: []string{"Registry.Local:5000"}})
	defer s.Close()
	tests := []struct {
		image, want string
		scheme      string
	}{
		{"nginx", "index.docker.io/library/nginx:latest", "https"},
		{"docker.io/acme/app:1", "index.docker.io/acme/app:1", "https"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1", "https"},
		{"ghcr.io/acme/api@" + digest, "ghcr.io/acme/api@" + digest, "https"},
		{"ghcr.io/acme/api:1.4@" + digest, "ghcr.io/acme/api@" + digest, "https"},
		{"registry.local:5000/team/app:2", "registry.local:5000/team/app:2", "http"},
		{"[::1]:5000/x:1", "[::1]:5000/x:1", "http"},
		// ggcr's own parser leaves these on the alias, without "library/".
		{"registry-1.docker.io/busybox", "index.docker.io/library/busybox:latest", "https"},
		{"Index.Docker.IO/nginx:1", "index.docker.io/library/nginx:1", "https"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			pr, err := imageref.Parse(tt.image)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := s.reference(pr)
			if err != nil {
				t.Fatal(err)
			}
			if got := ref.Name(); got != tt.want {
				t.Errorf("reference(%q) = %q, want %q", tt.image, got, tt.want)
			}
			if got := ref.Context().Scheme(); got != tt.scheme {
				t.Errorf("reference(%q) scheme %q, want %q", tt.image, got, tt.scheme)
			}
			if key, want := refKey(ref), refKeyOfGGCR(t, tt.want); key != want {
				t.Errorf("cache key %q, ggcr's parse of the normal form gives %q", key, want)
			}
		})
	}
}

// refKeyOfGGCR is the cache key of name.ParseReference(normal): keys are
// those of the ggcr parse they replace.
func refKeyOfGGCR(t *testing.T, normal string) string {
	t.Helper()
	ref, err := name.ParseReference(normal)
	if err != nil {
		t.Fatalf("%q: %v", normal, err)
	}
	return refKey(ref)
}

var sinkRef name.Reference

// BenchmarkReference measures what Evidence does to an image before the
// cache lookup: impl=once parses it with imageref.Parse and builds ggcr's
// reference from the result; impl=twice is the former code, which parsed
// the string again with name.ParseReference.
func BenchmarkReference(b *testing.B) {
	s := New(Options{})
	defer s.Close()
	for _, r := range []struct{ name, ref string }{
		{"ecr", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1"},
		{"hub-official", "nginx:1.27"},
		{"tag-digest", "registry.k8s.io/coredns/coredns:v1.11.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	} {
		b.Run("ref="+r.name+"/impl=twice", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := imageref.Parse(r.ref); err != nil {
					b.Fatal(err)
				}
				ref, err := name.ParseReference(r.ref)
				if err != nil {
					b.Fatal(err)
				}
				sinkRef = ref
			}
		})
		b.Run("ref="+r.name+"/impl=once", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pr, err := imageref.Parse(r.ref)
				if err != nil {
					b.Fatal(err)
				}
				ref, err := s.reference(pr)
				if err != nil {
					b.Fatal(err)
				}
				sinkRef = ref
			}
		})
	}
}
