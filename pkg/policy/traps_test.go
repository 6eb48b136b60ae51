package policy

import (
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// naiveVerdict is what a plain semver comparison would answer; "" when plain
// semver cannot even parse the version.
func naiveVerdict(found, min string) Verdict {
	f, err1 := semver.NewVersion(found)
	m, err2 := semver.NewVersion(min)
	if err1 != nil || err2 != nil {
		return ""
	}
	if f.LessThan(m) {
		return VerdictTooOld
	}
	return VerdictOK
}

// TestFACTSTraps pins every version trap of FACTS.md, and proves each
// expectation is one that a naive semver comparison gets wrong (or cannot
// answer).
func TestFACTSTraps(t *testing.T) {
	c := mustDefault(t)
	addon := func(image string) (*PodSpec, []*Evidence) {
		p := pod(image)
		return p, tagEvidence(p)
	}
	sdk := func(typ, ns, name, version string) (*PodSpec, []*Evidence) {
		p := pod("ghcr.io/acme/app:1.0")
		return p, []*Evidence{{Ref: img("ghcr.io/acme/app:1.0"), SBOM: "sbom:spdx-referrer",
			Packages: []Package{{Type: typ, Namespace: ns, Name: name, Version: version, Source: "sbom:spdx-referrer"}}}}
	}
	tests := []struct {
		name  string
		in    func() (*PodSpec, []*Evidence)
		cp    *KubeVersion
		found string // version handed to the naive comparison
		min   string
		want  Verdict
	}{
		{"eksbuild suffix is a build, not a prerelease", func() (*PodSpec, []*Evidence) {
			return addon("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1")
		}, nil, "v1.8.0-eksbuild.1", "1.8.0", VerdictOK},
		{"eksbuild suffix on CoreDNS", func() (*PodSpec, []*Evidence) {
			return addon("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.4-eksbuild.1")
		}, nil, "v1.8.4-eksbuild.1", "1.8.4", VerdictOK},
		{"minimal-eksbuild suffix", func() (*PodSpec, []*Evidence) {
			return addon("public.ecr.aws/eks/aws-load-balancer-controller:v2.0.0-minimal-eksbuild.2")
		}, nil, "v2.0.0-minimal-eksbuild.2", "2.0.0", VerdictOK},
		{"client-go legacy major v11 does not reload", func() (*PodSpec, []*Evidence) {
			return sdk("golang", "k8s.io", "client-go", "v11.0.0+incompatible")
		}, nil, "v11.0.0+incompatible", "v0.15.7", VerdictTooOld},
		{"client-go legacy major v1.5", func() (*PodSpec, []*Evidence) {
			return sdk("golang", "k8s.io", "client-go", "v1.5.2")
		}, nil, "v1.5.2", "v0.15.7", VerdictTooOld},
		{"client-go legacy major v9 prerelease", func() (*PodSpec, []*Evidence) {
			return sdk("golang", "k8s.io", "client-go", "v9.0.0-beta.0+incompatible")
		}, nil, "v9.0.0-beta.0+incompatible", "v0.15.7", VerdictTooOld},
		{"client-go pseudo-version after the fix", func() (*PodSpec, []*Evidence) {
			return sdk("golang", "k8s.io", "client-go", "v0.0.0-20190918160344-1fbdaa4c8d90")
		}, nil, "v0.0.0-20190918160344-1fbdaa4c8d90", "v0.15.7", VerdictOK},
		{"client-go pseudo-version inside the fix window", func() (*PodSpec, []*Evidence) {
			return sdk("golang", "k8s.io", "client-go", "v0.0.0-20190601120000-abcdefabcdef")
		}, nil, "v0.0.0-20190601120000-abcdefabcdef", "v0.15.7", VerdictUnknown},
		{"fluentd daemonset flavour revision below", func() (*PodSpec, []*Evidence) {
			return addon("fluent/fluentd-kubernetes-daemonset:v1.14.6-debian-cloudwatch-1.1")
		}, nil, "v1.14.6-debian-cloudwatch-1.1", "1.14.6-1.2", VerdictTooOld},
		{"fluentd revision above", func() (*PodSpec, []*Evidence) {
			return addon("fluent/fluentd:v1.14.6-1.10")
		}, nil, "", "", VerdictOK}, // naive semver happens to agree here
		{"fluent bit four-part tag", func() (*PodSpec, []*Evidence) {
			return addon("public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008")
		}, nil, "2.32.2.20241008", "2.25.0", VerdictOK},
		{"fluent bit floating tag", func() (*PodSpec, []*Evidence) {
			return addon("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable")
		}, nil, "stable", "2.25.0", VerdictUnknown},
		{"floating latest", func() (*PodSpec, []*Evidence) { return addon("coredns/coredns:latest") }, nil, "latest", "1.8.4", VerdictUnknown},
		{"digest without tag", func() (*PodSpec, []*Evidence) {
			return addon("public.ecr.aws/eks/amazon-k8s-cni@sha256:" + strings.Repeat("0", 64))
		}, nil, "", "1.8.0", VerdictUnknown},
		{"python prerelease below the release", func() (*PodSpec, []*Evidence) {
			return sdk("pypi", "", "kubernetes", "12.0.0a1")
		}, nil, "12.0.0a1", "12.0.0", VerdictTooOld},
		{"python post release", func() (*PodSpec, []*Evidence) {
			return sdk("pypi", "", "kubernetes", "12.0.0.post1")
		}, nil, "12.0.0.post1", "12.0.0", VerdictOK},
		{"ruby: no released version passes", func() (*PodSpec, []*Evidence) {
			return sdk("gem", "", "kubernetes-io", "1.0.0.pre.alpha2")
		}, nil, "1.0.0.pre.alpha2", "master", VerdictTooOld},
		{"haskell four-part minimum", func() (*PodSpec, []*Evidence) {
			return sdk("hackage", "", "kubernetes-client", "0.3")
		}, nil, "0.3", "0.3.0.0", VerdictTooOld},
		{"nuget four parts", func() (*PodSpec, []*Evidence) {
			return sdk("nuget", "", "KubernetesClient", "7.0.5.0")
		}, nil, "7.0.5.0", "7.0.5", VerdictOK},
		{"npm scope spelled %40", func() (*PodSpec, []*Evidence) {
			return sdk("npm", "%40kubernetes", "client-node", "0.10.2")
		}, nil, "", "", VerdictTooOld},
		{"alb-ingress-controller v1 line in the shared repository", func() (*PodSpec, []*Evidence) {
			return addon("amazon/aws-alb-ingress-controller:v1.1.9")
		}, nil, "", "", VerdictTooOld},
		{"alb-ingress-controller early v2 in the shared repository", func() (*PodSpec, []*Evidence) {
			return addon("amazon/aws-alb-ingress-controller:v2.2.4")
		}, nil, "", "", VerdictOK},
		{"kube-proxy below 1.25 has a skew of two", func() (*PodSpec, []*Evidence) {
			return addon("registry.k8s.io/kube-proxy:v1.24.17")
		}, &KubeVersion{1, 27}, "", "", VerdictTooOld},
		{"kube-proxy three minors older is fine from 1.25", func() (*PodSpec, []*Evidence) {
			return addon("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.27.16-minimal-eksbuild.3")
		}, &KubeVersion{1, 30}, "", "", VerdictOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ev := tt.in()
			fs := c.Evaluate(p, ev, Options{ControlPlane: tt.cp})
			if len(fs) != 1 {
				t.Fatalf("%d findings: %+v", len(fs), fs)
			}
			if fs[0].Verdict != tt.want {
				t.Errorf("verdict %s, want %s: %s", fs[0].Verdict, tt.want, fs[0].Message())
			}
			if tt.found != "" && tt.min != "" {
				if naive := naiveVerdict(tt.found, tt.min); naive == tt.want {
					t.Errorf("naive semver also answers %s: this case does not test the trap", naive)
				}
			}
		})
	}
}
