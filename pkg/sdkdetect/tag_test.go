package sdkdetect

import (
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

func TestTagEvidence(t *testing.T) {
	tests := []struct {
		name        string
		image       string
		ref         policy.ImageRef
		unavailable string
	}{
		{"EKS add-on on a FIPS endpoint", "013241004608.dkr.ecr-fips.us-gov-west-1.amazonaws.com/eks/coredns:v1.8.7-eksbuild.3",
			policy.ImageRef{Registry: "013241004608.dkr.ecr-fips.us-gov-west-1.amazonaws.com", Repository: "eks/coredns", Tag: "v1.8.7-eksbuild.3"}, ""},
		{"Docker Hub short name", "fluent/fluentd:v1.16-1",
			policy.ImageRef{Registry: "docker.io", Repository: "fluent/fluentd", Tag: "v1.16-1"}, ""},
		{"tag and digest keep both", "coredns/coredns:1.8.4@sha256:" + hex64,
			policy.ImageRef{Registry: "docker.io", Repository: "coredns/coredns", Tag: "1.8.4", Digest: "sha256:" + hex64}, ""},
		// The runtime refuses an upper-case repository; the reason names
		// the problem once, without repeating the image.
		{"upper-case repository", "602401143452.dkr.ecr.us-west-2.amazonaws.com/EKS/coredns:v1.8.4",
			policy.ImageRef{}, `the image reference is invalid: repository "EKS/coredns" must be lowercase`},
		{"empty", "", policy.ImageRef{}, "the image reference is invalid: empty reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := TagEvidence(tt.image)
			tt.ref.Original = tt.image
			if ev.Ref != tt.ref {
				t.Errorf("Ref = %+v, want %+v", ev.Ref, tt.ref)
			}
			if ev.Unavailable != tt.unavailable {
				t.Errorf("Unavailable = %q, want %q", ev.Unavailable, tt.unavailable)
			}
			if len(ev.Packages) != 0 || ev.SBOM != "" || ev.Labels != nil {
				t.Errorf("a tag carries no labels or packages: %+v", ev)
			}
		})
	}
}
