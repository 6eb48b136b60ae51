package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestObjectName(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name, digest, want string
	}{
		{"sha256", "sha256:" + hex64, "sha256-" + hex64},
		{"sha384", "sha384:" + hex64 + hex64[:32], "sha384-" + hex64 + hex64[:32]},
		{"sha512", "sha512:" + hex64 + hex64, "sha512-" + hex64 + hex64},
		{"uppercase hex", "sha256:" + strings.ToUpper(hex64), ""},
		{"short", "sha256:" + hex64[:63], ""},
		{"long", "sha256:" + hex64 + "0", ""},
		{"no algorithm", hex64, ""},
		{"unknown algorithm", "md5:" + hex64[:32], ""},
		{"sha512 length under sha256", "sha256:" + hex64 + hex64, ""},
		{"not hex", "sha256:" + hex64[:63] + "g", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ObjectName(tt.digest)
			if got != tt.want {
				t.Fatalf("ObjectName(%q) = %q, want %q", tt.digest, got, tt.want)
			}
			if ValidDigest(tt.digest) != (tt.want != "") {
				t.Errorf("ValidDigest(%q) = %v", tt.digest, !(tt.want != ""))
			}
			if got == "" {
				return
			}
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("%q is not a valid object name: %v", got, errs)
			}
			if d := DigestOf(got); d != tt.digest {
				t.Errorf("DigestOf(%q) = %q, want %q", got, d, tt.digest)
			}
			if len(tt.digest) > MaxDigestLength {
				t.Errorf("digest of %d bytes, MaxDigestLength %d", len(tt.digest), MaxDigestLength)
			}
		})
	}
	for _, name := range []string{"", "sha256", "sha256-", "sha256:" + hex64, "coredns", "sha256-" + strings.ToUpper(hex64)} {
		if d := DigestOf(name); d != "" {
			t.Errorf("DigestOf(%q) = %q, want none", name, d)
		}
	}
}
