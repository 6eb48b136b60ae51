package config_test

import (
	"testing"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/imageref"
)

// TestImageNormalisationAgreesWithParse checks that an exact image
// exemption matches every spelling imageref.Parse treats as the same
// reference.
func TestImageNormalisationAgreesWithParse(t *testing.T) {
	images := []string{
		"busybox", "busybox:1.36", "library/busybox:1.36", "docker.io/busybox:1.36", "index.docker.io/library/busybox:1.36",
		"acme/app:2", "docker.io/acme/app:2", "registry-1.docker.io/acme/app:2",
		"localhost/app", "localhost:5000/app:1", "ghcr.io/acme/app:1",
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.4",
		"nginx@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	}
	for _, entry := range images {
		x, err := (&config.Exemptions{Images: []string{entry}}).Compile()
		if err != nil {
			t.Fatal(err)
		}
		want, err := imageref.Parse(entry)
		if err != nil {
			t.Fatal(err)
		}
		for _, image := range images {
			ref, err := imageref.Parse(image)
			if err != nil {
				t.Fatal(err)
			}
			same := ref.Registry == want.Registry && ref.Repository == want.Repository && ref.Tag == want.Tag && ref.Digest == want.Digest
			if got := x.Image(image) != ""; got != same {
				t.Errorf("entry %q, image %q: exempt %v, Parse says same reference %v", entry, image, got, same)
			}
		}
	}
}
