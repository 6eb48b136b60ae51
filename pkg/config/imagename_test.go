package config

import "testing"

func TestNormalizeImage(t *testing.T) {
	tests := []struct{ image, want string }{
		{"busybox", "docker.io/library/busybox"},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"busybox@sha256:ab", "docker.io/library/busybox@sha256:ab"},
		{"library/busybox:1", "docker.io/library/busybox:1"},
		{"docker.io/busybox:1", "docker.io/library/busybox:1"},
		{"index.docker.io/library/busybox:1", "docker.io/library/busybox:1"},
		{"Registry-1.Docker.IO/acme/app", "docker.io/acme/app"},
		{"acme/app:2", "docker.io/acme/app:2"},
		{"library/a/b", "docker.io/library/a/b"},
		{"localhost/app", "localhost/app"},
		{"localhost:5000/app:1", "localhost:5000/app:1"},
		{"ghcr.io/acme/app:1@sha256:ab", "ghcr.io/acme/app:1@sha256:ab"},
		{"Host/app", "Host/app"},
		{"[::1]:5000/app", "[::1]:5000/app"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			n := normalizeImage(tt.image)
			if got := n.a + n.b; got != tt.want {
				t.Errorf("normalizeImage(%q) = %q, want %q", tt.image, got, tt.want)
			}
			// The split is a function of the normalised form.
			m := normalizeImage(tt.want)
			if m != n {
				t.Errorf("split of %q is %#v, of its normal form %#v", tt.image, n, m)
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
