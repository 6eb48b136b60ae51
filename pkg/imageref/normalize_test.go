package imageref

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
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
		{"localhost:5000", "docker.io/library/localhost:5000"},
		{"ghcr.io/acme/app:1@sha256:ab", "ghcr.io/acme/app:1@sha256:ab"},
		{"Host/app", "Host/app"},
		{"[::1]:5000/app", "[::1]:5000/app"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			h, tl := Normalize(tt.image)
			if got := h + tl; got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.image, got, tt.want)
			}
			// The split is a function of the normalised form.
			if h2, t2 := Normalize(tt.want); h2 != h || t2 != tl {
				t.Errorf("split of %q is %q+%q, of its normal form %q+%q", tt.image, h, tl, h2, t2)
			}
			if n := testing.AllocsPerRun(10, func() { Normalize(tt.image) }); n != 0 {
				t.Errorf("Normalize(%q) allocates %v times", tt.image, n)
			}
		})
	}
}

func TestSplitHost(t *testing.T) {
	tests := []struct{ in, host, rest string }{
		{"nginx", "", "nginx"},
		{"acme/app:1", "", "acme/app:1"},
		{"docker.io/acme/app", "", "acme/app"},
		{"INDEX.docker.io/nginx", "", "nginx"},
		{"ghcr.io/acme/app", "ghcr.io", "acme/app"},
		{"localhost/app", "localhost", "app"},
		{"MyRegistry/app", "MyRegistry", "app"},
		{"[::1]:5000/app", "[::1]:5000", "app"},
		{"localhost:5000", "", "localhost:5000"},
	}
	for _, tt := range tests {
		if host, rest := SplitHost(tt.in); host != tt.host || rest != tt.rest {
			t.Errorf("SplitHost(%q) = %q, %q; want %q, %q", tt.in, host, rest, tt.host, tt.rest)
		}
	}
}

// TestNormalizeAgreesWithParse holds the lexical normalisation against the
// parser on valid references.
func TestNormalizeAgreesWithParse(t *testing.T) {
	for _, s := range fuzzSeeds {
		checkNormalizeAgrees(t, s)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(checkNormalizeAgrees)
}

func checkNormalizeAgrees(t *testing.T, s string) {
	ref, err := Parse(s)
	if err != nil {
		return
	}
	want := ref.Registry + "/" + ref.Repository
	if ref.Tag != "" {
		want += ":" + ref.Tag
	}
	if ref.Digest != "" {
		want += "@" + ref.Digest
	}
	h, tl := Normalize(s)
	if got := h + tl; got != want {
		t.Errorf("Normalize(%q) = %q, Parse says %q", s, got, want)
	}
}

func TestErrorDetail(t *testing.T) {
	_, err := Parse("nginx:1+2")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse error %T is not an *Error", err)
	}
	if e.Reference != "nginx:1+2" || e.Detail != `tag "1+2" has invalid character '+'` {
		t.Errorf("Error = %+v", *e)
	}
	if got, want := err.Error(), `invalid image reference "nginx:1+2": tag "1+2" has invalid character '+'`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
