package policy

import (
	"reflect"
	"strings"
	"testing"
)

// img builds an ImageRef the way imageref.Parse would, for tests.
func img(s string) ImageRef {
	ref := ImageRef{Original: s}
	rest := s
	if i := strings.Index(rest, "@"); i >= 0 {
		ref.Digest, rest = rest[i+1:], rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		ref.Tag, rest = rest[i+1:], rest[:i]
	}
	first, path, ok := strings.Cut(rest, "/")
	if ok && strings.ContainsAny(first, ".:") {
		ref.Registry, ref.Repository = first, path
	} else {
		ref.Registry, ref.Repository = "docker.io", rest
		if !ok {
			ref.Repository = "library/" + rest
		}
	}
	return ref
}

func pod(images ...string) *PodSpec {
	p := &PodSpec{}
	for i, im := range images {
		p.Containers = append(p.Containers, Container{Name: "c" + string(rune('0'+i)), Image: im})
	}
	return p
}

func tagEvidence(p *PodSpec) []*Evidence {
	ev := make([]*Evidence, len(p.Containers))
	for i, c := range p.Containers {
		ev[i] = &Evidence{Ref: img(c.Image)}
	}
	return ev
}

func v130() *KubeVersion { return &KubeVersion{1, 30} }

func TestEvaluateAddons(t *testing.T) {
	c := mustDefault(t)
	tests := []struct {
		image   string
		cp      *KubeVersion
		verdict Verdict
		min     string
	}{
		// EKS build suffixes are not prereleases.
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1", nil, VerdictOK, "1.8.0"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.10-eksbuild.1", nil, VerdictTooOld, "1.8.0"},
		{"900889452093.dkr.ecr.ap-south-2.amazonaws.com/amazon-k8s-cni-init:v1.7.5", nil, VerdictTooOld, "1.8.0"},
		{"918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/amazon-k8s-cni:v1.18.3-eksbuild.1", nil, VerdictOK, "1.8.0"},
		{"public.ecr.aws/eks/amazon-k8s-cni:v1.12.0", nil, VerdictOK, "1.8.0"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/cni-metrics-helper:v1.7.10", nil, VerdictTooOld, "1.8.0"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.4-eksbuild.1", nil, VerdictOK, "1.8.4"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1", nil, VerdictTooOld, "1.8.4"},
		{"registry.k8s.io/coredns/coredns:v1.11.1", nil, VerdictOK, "1.8.4"},
		{"coredns/coredns:1.8.0", nil, VerdictTooOld, "1.8.4"},
		{"coredns/coredns:1.8.4", nil, VerdictOK, "1.8.4"},
		{"coredns/coredns:latest", nil, VerdictUnknown, "1.8.4"},
		{"coredns/coredns", nil, VerdictUnknown, "1.8.4"},
		// One repository, two lines: the tag decides.
		{"amazon/aws-alb-ingress-controller:v1.1.9", nil, VerdictTooOld, "2.0.0"},
		{"amazon/aws-alb-ingress-controller:v2.1.3", nil, VerdictOK, "2.0.0"},
		{"public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1", nil, VerdictOK, "2.0.0"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-load-balancer-controller:v2.4.7", nil, VerdictOK, "2.0.0"},
		{"public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008", nil, VerdictOK, "2.25.0"},
		{"amazon/aws-for-fluent-bit:2.24.0", nil, VerdictTooOld, "2.25.0"},
		{"906394416424.dkr.ecr.us-east-1.amazonaws.com/aws-for-fluent-bit:stable", nil, VerdictUnknown, "2.25.0"},
		{"fluent/fluentd:v1.14.6-1.2", nil, VerdictOK, "1.14.6-1.2"},
		{"fluent/fluentd:v1.14.6-1.1", nil, VerdictTooOld, "1.14.6-1.2"},
		{"fluent/fluentd-kubernetes-daemonset:v1.14.6-debian-cloudwatch-1.1", nil, VerdictTooOld, "1.14.6-1.2"},
		{"fluent/fluentd-kubernetes-daemonset:v1.16.2-debian-cloudwatch-1.0", nil, VerdictOK, "1.14.6-1.2"},
		{"fluent/fluentd-kubernetes-daemonset:v1-debian-cloudwatch", nil, VerdictUnknown, "1.14.6-1.2"},
		// kube-proxy: the skew policy against the control plane.
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.2", nil, VerdictUnknown, "control-plane"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.2", v130(), VerdictOK, "v1.27"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.27.1-eksbuild.1", v130(), VerdictOK, "v1.27"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.26.9-minimal-eksbuild.1", v130(), VerdictTooOld, "v1.27"},
		{"registry.k8s.io/kube-proxy:v1.31.0", v130(), VerdictUnknown, "v1.27"},
		{"registry.k8s.io/kube-proxy:v1.22.17", &KubeVersion{1, 24}, VerdictOK, "v1.22"},
		{"registry.k8s.io/kube-proxy:v1.21.14", &KubeVersion{1, 24}, VerdictTooOld, "v1.22"},
		{"registry.k8s.io/kube-proxy:v1.24.0", &KubeVersion{1, 27}, VerdictTooOld, "v1.25"},
		{"registry.k8s.io/kube-proxy:v1.25.0", &KubeVersion{1, 28}, VerdictOK, "v1.25"},
	}
	for _, tt := range tests {
		name := tt.image
		if tt.cp != nil {
			name += "@cp" + tt.cp.String()
		}
		t.Run(name, func(t *testing.T) {
			p := pod(tt.image)
			fs := c.Evaluate(p, tagEvidence(p), Options{ControlPlane: tt.cp})
			if len(fs) != 1 {
				t.Fatalf("got %d findings, want 1: %+v", len(fs), fs)
			}
			f := fs[0]
			if f.Verdict != tt.verdict || f.Kind != KindAddon || f.Minimum != tt.min {
				t.Errorf("verdict %s kind %s minimum %s, want %s addon %s\n%+v", f.Verdict, f.Kind, f.Minimum, tt.verdict, tt.min, f)
			}
			if f.Container != "c0" || f.Component == "" {
				t.Errorf("subject %q component %q", f.Container, f.Component)
			}
			switch f.Verdict {
			case VerdictTooOld:
				if f.Reason != ReasonBelowMinimum || f.Fix == "" || f.Version == "" {
					t.Errorf("too-old finding: %+v", f)
				}
			case VerdictUnknown:
				if (f.Reason != ReasonIncomparable && f.Reason != ReasonNoVersion) || f.Detail == "" || f.Fix == "" {
					t.Errorf("unknown finding: %+v", f)
				}
			}
		})
	}
}

func TestEvaluateMessages(t *testing.T) {
	c := mustDefault(t)
	p := pod("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1")
	p.Containers[0].Name = "coredns"
	fs := c.Evaluate(p, tagEvidence(p), Options{})
	want := Finding{Container: "coredns", Image: p.Containers[0].Image, Component: "coredns", Kind: KindAddon,
		Version: "v1.8.3-eksbuild.1", Minimum: "1.8.4", Source: SourceTag, Verdict: VerdictTooOld, Reason: ReasonBelowMinimum,
		Fix: c.Rule("coredns").Fix}
	if len(fs) != 1 || fs[0] != want {
		t.Errorf("finding\n got %+v\nwant %+v", fs, want)
	}

	sdk := &PodSpec{Containers: []Container{{Name: "api", Image: "ghcr.io/acme/api:1.4"}}}
	ev := []*Evidence{{Ref: img("ghcr.io/acme/api:1.4"), SBOM: "sbom:spdx-referrer", Packages: []Package{
		{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", Source: "sbom:spdx-referrer"},
	}}}
	fs = c.Evaluate(sdk, ev, Options{})
	want = Finding{Container: "api", Image: "ghcr.io/acme/api:1.4", Component: "k8s.io/client-go", Kind: KindSDK,
		Version: "v0.14.2", Minimum: c.Rule("k8s.io/client-go").Minimum, Source: "sbom:spdx-referrer", Verdict: VerdictTooOld,
		Reason: ReasonBelowMinimum, Fix: c.Rule("k8s.io/client-go").Fix}
	if len(fs) != 1 || fs[0] != want {
		t.Errorf("finding\n got %+v\nwant %+v", fs, want)
	}
}

func TestEvaluateSDKs(t *testing.T) {
	c := mustDefault(t)
	pkg := func(typ, ns, name, version string) Package {
		return Package{Type: typ, Namespace: ns, Name: name, Version: version, Source: "sbom:spdx-referrer"}
	}
	tests := []struct {
		name    string
		pkgs    []Package
		want    []Verdict // one per finding, sorted by component
		comps   []string
		version string // version of the first finding
	}{
		{"client-go ok", []Package{pkg("golang", "k8s.io", "client-go", "v0.29.3")}, []Verdict{VerdictOK}, []string{"k8s.io/client-go"}, "v0.29.3"},
		// A naive semver comparison ranks v11.0.0 above v0.15.7.
		{"client-go legacy major", []Package{pkg("golang", "k8s.io", "client-go", "v11.0.0+incompatible")}, []Verdict{VerdictTooOld}, []string{"k8s.io/client-go"}, "v11.0.0+incompatible"},
		{"client-go v12 has the fix", []Package{pkg("golang", "k8s.io", "client-go", "v12.0.0+incompatible")}, []Verdict{VerdictOK}, []string{"k8s.io/client-go"}, "v12.0.0+incompatible"},
		{"python prerelease is below", []Package{pkg("pypi", "", "kubernetes", "12.0.0b1")}, []Verdict{VerdictTooOld}, []string{"pypi:kubernetes"}, "12.0.0b1"},
		{"ruby no release passes", []Package{pkg("gem", "", "kubernetes-io", "1.0.0.pre.alpha2")}, []Verdict{VerdictTooOld}, []string{"gem:kubernetes-io"}, "1.0.0.pre.alpha2"},
		{"haskell four parts", []Package{pkg("hackage", "", "kubernetes-client", "0.2.0.1")}, []Verdict{VerdictTooOld}, []string{"hackage:kubernetes-client"}, "0.2.0.1"},
		{"two components", []Package{pkg("pypi", "", "kubernetes", "29.0.0"), pkg("golang", "k8s.io", "client-go", "v0.14.0")},
			[]Verdict{VerdictTooOld, VerdictOK}, []string{"k8s.io/client-go", "pypi:kubernetes"}, "v0.14.0"},
		// Two binaries with different client-go versions: the worst wins.
		{"worst of one component", []Package{pkg("golang", "k8s.io", "client-go", "v0.29.0"), pkg("golang", "k8s.io", "client-go", "v0.14.0")},
			[]Verdict{VerdictTooOld}, []string{"k8s.io/client-go"}, "v0.14.0"},
		{"SBOM without any client", []Package{pkg("golang", "golang.org/x", "net", "v0.1.0")}, []Verdict{VerdictOK}, []string{""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod("ghcr.io/acme/app:1.0")
			ev := []*Evidence{{Ref: img("ghcr.io/acme/app:1.0"), SBOM: "sbom:spdx-referrer", Packages: tt.pkgs}}
			fs := c.Evaluate(p, ev, Options{})
			var verdicts []Verdict
			var comps []string
			for _, f := range fs {
				verdicts = append(verdicts, f.Verdict)
				comps = append(comps, f.Component)
			}
			if !reflect.DeepEqual(verdicts, tt.want) || !reflect.DeepEqual(comps, tt.comps) {
				t.Fatalf("got %v %v, want %v %v\n%+v", verdicts, comps, tt.want, tt.comps, fs)
			}
			if fs[0].Version != tt.version {
				t.Errorf("version %q, want %q", fs[0].Version, tt.version)
			}
		})
	}
}

func TestEvaluateNoEvidence(t *testing.T) {
	c := mustDefault(t)
	p := pod("ghcr.io/acme/api:1.4")
	fs := c.Evaluate(p, tagEvidence(p), Options{})
	if len(fs) != 1 || fs[0].Verdict != VerdictUnknown || fs[0].Source != SourceNone || fs[0].Component != "" {
		t.Fatalf("got %+v", fs)
	}
	// The registry's failure reason reaches the message.
	ev := []*Evidence{{Ref: img("ghcr.io/acme/api:1.4"), Unavailable: "registry ghcr.io timed out after 2s"}}
	fs = c.Evaluate(p, ev, Options{})
	if fs[0].Reason != ReasonNoSDKEvidence || fs[0].Detail != "registry ghcr.io timed out after 2s" {
		t.Errorf("the finding does not carry the reason: %+v", fs[0])
	}
	// Registry lookups ran and failed: the advice is not "enable registry
	// lookups" but what the reason says, or an exemption.
	lookupFailedFix := fs[0].Fix
	noLookupFix := c.Evaluate(p, tagEvidence(p), Options{})[0].Fix
	if lookupFailedFix == noLookupFix || strings.Contains(lookupFailedFix, "enable registry lookups") || !strings.Contains(noLookupFix, "enable registry lookups") {
		t.Errorf("advice after a failed lookup %q, without lookups %q", lookupFailedFix, noLookupFix)
	}
	// Digest-pinned add-on: no tag; a version label decides.
	ref := img("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni@sha256:" + strings.Repeat("a", 64))
	p = pod(ref.Original)
	fs = c.Evaluate(p, []*Evidence{{Ref: ref}}, Options{})
	if fs[0].Verdict != VerdictUnknown || fs[0].Reason != ReasonNoVersion || !strings.Contains(fs[0].Detail, "pinned by digest") {
		t.Errorf("digest without labels: %+v", fs[0])
	}
	fs = c.Evaluate(p, []*Evidence{{Ref: ref, Labels: map[string]string{"org.opencontainers.image.version": "v1.7.5"}}}, Options{})
	if fs[0].Verdict != VerdictTooOld || fs[0].Source != "label:org.opencontainers.image.version" || fs[0].Version != "v1.7.5" {
		t.Errorf("digest with label: %+v", fs[0])
	}
	// A floating tag falls back to the label too.
	ref = img("amazon/aws-for-fluent-bit:stable")
	fs = c.Evaluate(pod(ref.Original), []*Evidence{{Ref: ref, Labels: map[string]string{"version": "2.31.12"}}}, Options{})
	if fs[0].Verdict != VerdictOK || fs[0].Source != "label:version" {
		t.Errorf("floating tag with label: %+v", fs[0])
	}
}

func TestEvaluateTokens(t *testing.T) {
	c := mustDefault(t)
	f := false
	year := int64(31536000)
	ninety := int64(MaxTokenSeconds)
	sdkEv := func(p *PodSpec) []*Evidence {
		ev := tagEvidence(p)
		for _, e := range ev {
			if e.Ref.Repository == "acme/api" {
				e.SBOM = "sbom:spdx-referrer"
				e.Packages = []Package{{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", Source: "sbom:spdx-referrer"}}
			}
		}
		return ev
	}
	tests := []struct {
		name     string
		pod      PodSpec
		verdicts map[string]Verdict // component@container → verdict
	}{
		{
			name: "automount false: SDK not applicable, add-on still judged",
			pod: PodSpec{AutomountServiceAccountToken: &f, Containers: []Container{
				{Name: "api", Image: "ghcr.io/acme/api:1"},
				{Name: "dns", Image: "coredns/coredns:1.8.0"},
			}},
			verdicts: map[string]Verdict{"k8s.io/client-go@api": VerdictNotApplicable, "coredns@dns": VerdictTooOld},
		},
		{
			name:     "default mount: SDK applies",
			pod:      PodSpec{Containers: []Container{{Name: "api", Image: "ghcr.io/acme/api:1"}}},
			verdicts: map[string]Verdict{"k8s.io/client-go@api": VerdictTooOld},
		},
		{
			name: "automount false but a projected token volume is mounted",
			pod: PodSpec{AutomountServiceAccountToken: &f,
				Containers: []Container{
					{Name: "api", Image: "ghcr.io/acme/api:1", VolumeMounts: []VolumeMount{{Name: "tok", MountPath: "/var/run/secrets/tokens"}}},
					{Name: "side", Image: "ghcr.io/acme/side:1"},
				},
				Volumes: []Volume{{Name: "tok", ServiceAccountToken: &ProjectedToken{Path: "token", ExpirationSeconds: &ninety}}}},
			verdicts: map[string]Verdict{"k8s.io/client-go@api": VerdictTooOld, "@side": VerdictNotApplicable},
		},
		{
			name: "admitted pod: only containers with the injected mount hold a token",
			pod: PodSpec{Containers: []Container{
				{Name: "api", Image: "ghcr.io/acme/api:1", VolumeMounts: []VolumeMount{{Name: "kube-api-access-x", MountPath: ServiceAccountMountPath}}},
				{Name: "other", Image: "ghcr.io/acme/api:1"},
			}, Volumes: []Volume{{Name: "kube-api-access-x", ServiceAccountToken: &ProjectedToken{Path: "token"}}}},
			verdicts: map[string]Verdict{"k8s.io/client-go@api": VerdictTooOld, "k8s.io/client-go@other": VerdictNotApplicable},
		},
		{
			name: "projected token above 90 days",
			pod: PodSpec{AutomountServiceAccountToken: &f,
				Containers: []Container{{Name: "agent", Image: "hashicorp/vault:1.17", VolumeMounts: []VolumeMount{{Name: "vault-token", MountPath: "/var/run/secrets/vault"}}}},
				Volumes:    []Volume{{Name: "vault-token", ServiceAccountToken: &ProjectedToken{Path: "token", ExpirationSeconds: &year}}}},
			verdicts: map[string]Verdict{"projected-token-expiration@agent": VerdictTooOld, "@agent": VerdictUnknown},
		},
		{
			name: "projected token of exactly 90 days is fine",
			pod: PodSpec{Containers: []Container{{Name: "agent", Image: "hashicorp/vault:1.17"}},
				Volumes: []Volume{{Name: "t", ServiceAccountToken: &ProjectedToken{Path: "token", ExpirationSeconds: &ninety}}}},
			verdicts: map[string]Verdict{"@agent": VerdictUnknown},
		},
		{
			name: "legacy token secret mounted at the token path",
			pod: PodSpec{AutomountServiceAccountToken: &f,
				Containers: []Container{{Name: "client", Image: "ghcr.io/acme/api:1", VolumeMounts: []VolumeMount{{Name: "sa", MountPath: ServiceAccountMountPath + "/"}}}},
				Volumes:    []Volume{{Name: "sa", SecretName: "my-sa-secret"}}},
			verdicts: map[string]Verdict{"legacy-token-secret@client": VerdictTooOld, "k8s.io/client-go@client": VerdictTooOld},
		},
		{
			name: "legacy token secret by name",
			pod: PodSpec{Containers: []Container{{Name: "client", Image: "nginx:1.27", VolumeMounts: []VolumeMount{{Name: "t", MountPath: "/etc/token"}}}},
				Volumes: []Volume{{Name: "t", SecretName: "builder-token-x7k2p"}}},
			verdicts: map[string]Verdict{"legacy-token-secret@client": VerdictTooOld, "@client": VerdictUnknown},
		},
		{
			name: "ordinary secret is not a token",
			pod: PodSpec{AutomountServiceAccountToken: &f, Containers: []Container{{Name: "client", Image: "nginx:1.27", VolumeMounts: []VolumeMount{{Name: "t", MountPath: "/etc/tls"}}}},
				Volumes: []Volume{{Name: "t", SecretName: "api-token-abcde"}}},
			verdicts: map[string]Verdict{"@client": VerdictNotApplicable},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := c.Evaluate(&tt.pod, sdkEv(&tt.pod), Options{})
			got := map[string]Verdict{}
			for _, f := range fs {
				got[f.Component+"@"+f.Container] = f.Verdict
			}
			if !reflect.DeepEqual(got, tt.verdicts) {
				t.Errorf("got %v\nwant %v\n%+v", got, tt.verdicts, fs)
			}
		})
	}
}

func TestEvaluateDeterministicOrder(t *testing.T) {
	c := mustDefault(t)
	p := &PodSpec{Containers: []Container{
		{Name: "zeta", Image: "coredns/coredns:1.8.0"},
		{Name: "alpha", Image: "amazon/aws-for-fluent-bit:2.1.0", Kind: ContainerInit},
		{Name: "mid", Image: "nginx"},
	}}
	first := c.Evaluate(p, tagEvidence(p), Options{})
	var names []string
	for _, f := range first {
		names = append(names, f.Container)
	}
	if !reflect.DeepEqual(names, []string{"alpha", "mid", "zeta"}) {
		t.Errorf("containers not sorted: %v", names)
	}
	for i := 0; i < 20; i++ {
		if again := c.Evaluate(p, tagEvidence(p), Options{}); !reflect.DeepEqual(again, first) {
			t.Fatalf("run %d differs:\n%+v\n%+v", i, again, first)
		}
	}
	if w := Worst(first); w != VerdictTooOld {
		t.Errorf("worst = %s", w)
	}
}

func TestParseKubeVersion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want KubeVersion
		ok   bool
	}{
		{"v1.30", KubeVersion{1, 30}, true},
		{"1.30", KubeVersion{1, 30}, true},
		{"v1.30.2", KubeVersion{1, 30}, true},
		{"v1.30.2-eks-a737599", KubeVersion{1, 30}, true},
		{"v1.30+", KubeVersion{1, 30}, true},
		{"v1", KubeVersion{}, false},
		{"", KubeVersion{}, false},
		{"v1.x", KubeVersion{}, false},
		{"1.30abc", KubeVersion{}, false},
	} {
		got, err := ParseKubeVersion(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseKubeVersion(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	c := mustDefault(b)
	// A 3-container pod: an add-on, an app with SBOM evidence, a sidecar
	// with none (the common cases of one admission).
	p := &PodSpec{Containers: []Container{
		{Name: "aws-node", Image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1"},
		{Name: "api", Image: "ghcr.io/acme/api:1.4"},
		{Name: "proxy", Image: "envoyproxy/envoy:v1.30.1"},
	}}
	ev := tagEvidence(p)
	ev[1].SBOM = "sbom:spdx-referrer"
	ev[1].Packages = []Package{{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.29.3", Source: "sbom:spdx-referrer"}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = c.Evaluate(p, ev, Options{})
	}
}

// A tag next to a digest passes an image only once the registry confirmed
// it (issue #13): the runtime pulls the digest, so coredns:v1.9.0@<old
// digest> would otherwise pass enforce. An old tag still fails.
func TestEvaluateTagNextToDigest(t *testing.T) {
	c := mustDefault(t)
	digest := "@sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name     string
		image    string
		verified bool
		note     string
		want     Verdict
		detail   string
	}{
		{name: "new tag, unconfirmed", image: "coredns/coredns:1.9.0" + digest, want: VerdictUnknown, detail: "next to a digest"},
		{name: "new tag, confirmed", image: "coredns/coredns:1.9.0" + digest, verified: true, want: VerdictOK},
		{name: "new tag, another digest", image: "coredns/coredns:1.9.0" + digest, note: "the tag 1.9.0 points at sha256:bbbb, not at the digest", want: VerdictUnknown, detail: "points at sha256:bbbb"},
		{name: "old tag stays too-old", image: "coredns/coredns:1.8.3" + digest, want: VerdictTooOld},
		{name: "tag without digest", image: "coredns/coredns:1.9.0", want: VerdictOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod(tt.image)
			ev := tagEvidence(p)
			ev[0].TagVerified, ev[0].TagUnverified = tt.verified, tt.note
			fs := c.Evaluate(p, ev, Options{})
			if len(fs) != 1 || fs[0].Verdict != tt.want || !strings.Contains(fs[0].Detail, tt.detail) {
				t.Errorf("got %+v, want %s with detail %q", fs, tt.want, tt.detail)
			}
		})
	}
	// The digest's own version label still decides.
	p := pod("coredns/coredns:1.9.0" + digest)
	ev := tagEvidence(p)
	ev[0].Labels = map[string]string{"org.opencontainers.image.version": "1.8.3"}
	if fs := c.Evaluate(p, ev, Options{}); fs[0].Verdict != VerdictTooOld || fs[0].Source != "label:org.opencontainers.image.version" {
		t.Errorf("label of the digest: %+v", fs[0])
	}
}

// TestEvaluateLayerScan: packages found in the image's files carry the
// file; a complete scan that found none is ok by the layers; an incomplete
// one is unknown with its reason, never ok.
func TestEvaluateLayerScan(t *testing.T) {
	c := mustDefault(t)
	p := pod("ghcr.io/acme/web:2.4.1")
	ref := img("ghcr.io/acme/web:2.4.1")
	ev := []*Evidence{{Ref: ref, Layers: SourceLayers, Packages: []Package{{Type: "npm", Namespace: "@kubernetes", Name: "client-node", Version: "0.10.2",
		Source: "layer:node-package", File: "/app/node_modules/@kubernetes/client-node/package.json"}}}}
	fs := c.Evaluate(p, ev, Options{})
	if len(fs) != 1 || fs[0].Verdict != VerdictTooOld || fs[0].File != "/app/node_modules/@kubernetes/client-node/package.json" ||
		!strings.Contains(fs[0].Message(), "(found in /app/node_modules/@kubernetes/client-node/package.json)") {
		t.Errorf("a package found in a file: %+v", fs)
	}
	fs = c.Evaluate(p, []*Evidence{{Ref: ref, Layers: SourceLayers}}, Options{})
	if len(fs) != 1 || fs[0].Verdict != VerdictOK || fs[0].Reason != ReasonNoSDKInLayers || fs[0].Source != SourceLayers {
		t.Errorf("a complete scan with no SDK: %+v", fs)
	}
	fs = c.Evaluate(p, []*Evidence{{Ref: ref, LayersIncomplete: "the scan stopped after 2 GiB of compressed layers"}}, Options{})
	if len(fs) != 1 || fs[0].Verdict != VerdictUnknown || !strings.Contains(fs[0].Detail, "stopped after 2 GiB") {
		t.Errorf("an incomplete scan: %+v", fs)
	}
	// An SBOM that lists no SDK still decides when no scan was done.
	fs = c.Evaluate(p, []*Evidence{{Ref: ref, SBOM: "sbom:spdx-referrer"}}, Options{})
	if fs[0].Reason != ReasonNoSDKInSBOM {
		t.Errorf("SBOM without SDK: %+v", fs[0])
	}
}
