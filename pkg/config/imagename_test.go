package config

import (
	"testing"

	"github.com/tokenguard/tokenguard/pkg/imageref"
)

// TestNormalizeImage: normalizeImage is imageref.Normalize (whose cases
// live in pkg/imageref), split so that the split depends on the normal form
// only.
func TestNormalizeImage(t *testing.T) {
	for _, image := range []string{"busybox:1.36", "Registry-1.Docker.IO/acme/app", "localhost:5000/app:1",
		"ghcr.io/acme/app:1@sha256:ab", "[::1]:5000/app"} {
		t.Run(image, func(t *testing.T) {
			head, tail := imageref.Normalize(image)
			n := normalizeImage(image)
			if got := n.a + n.b; got != head+tail {
				t.Errorf("normalizeImage(%q) = %q, imageref.Normalize %q", image, got, head+tail)
			}
			if m := normalizeImage(head + tail); m != n {
				t.Errorf("split of %q is %#v, of its normal form %#v", image, n, m)
			}
		})
	}
}

func TestNormalizePattern(t *testing.T) {
	tests := []struct {
		pattern, want string
		ok            bool
	}{
		{"busybox:*", "docker.io/library/busybox:*", true},
		{"acme/*", "docker.io/acme/*", true},
		{"docker.io/busybox:*", "docker.io/library/busybox:*", true},
		{"docker.io/**", "docker.io/**", true},
		{"index.docker.io/library/x:*", "docker.io/library/x:*", true},
		{"registry.example.com/legacy/*", "registry.example.com/legacy/*", true},
		{"*/legacy/*", "", false},
		{"**busybox*", "", false},
		{"acme*/app", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, ok := normalizePattern(tt.pattern)
			if got != tt.want || ok != tt.ok {
				t.Errorf("normalizePattern(%q) = %q, %v; want %q, %v", tt.pattern, got, ok, tt.want, tt.ok)
			}
		})
	}
}
