package imageref

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

const (
	hex64  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	hex96  = hex64 + "0123456789abcdef0123456789abcdef"
	hex128 = hex64 + hex64
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want policy.ImageRef
	}{
		{"official image", "nginx",
			policy.ImageRef{Registry: "docker.io", Repository: "library/nginx"}},
		{"official image with tag", "nginx:1.27",
			policy.ImageRef{Registry: "docker.io", Repository: "library/nginx", Tag: "1.27"}},
		{"hub user image", "amazon/aws-for-fluent-bit:2.32.2",
			policy.ImageRef{Registry: "docker.io", Repository: "amazon/aws-for-fluent-bit", Tag: "2.32.2"}},
		{"explicit docker.io", "docker.io/nginx",
			policy.ImageRef{Registry: "docker.io", Repository: "library/nginx"}},
		{"explicit docker.io/library", "docker.io/library/nginx:latest",
			policy.ImageRef{Registry: "docker.io", Repository: "library/nginx", Tag: "latest"}},
		{"index.docker.io", "index.docker.io/coredns/coredns:1.8.0",
			policy.ImageRef{Registry: "docker.io", Repository: "coredns/coredns", Tag: "1.8.0"}},
		{"registry-1.docker.io official", "registry-1.docker.io/busybox",
			policy.ImageRef{Registry: "docker.io", Repository: "library/busybox"}},
		{"hub alias in upper case", "Index.Docker.IO/nginx",
			policy.ImageRef{Registry: "docker.io", Repository: "library/nginx"}},
		{"localhost", "localhost/x",
			policy.ImageRef{Registry: "localhost", Repository: "x"}},
		{"localhost with port", "localhost:5000/x:y",
			policy.ImageRef{Registry: "localhost:5000", Repository: "x", Tag: "y"}},
		{"IPv4 with port and digest", "127.0.0.1:5000/a/b@sha256:" + hex64,
			policy.ImageRef{Registry: "127.0.0.1:5000", Repository: "a/b", Digest: "sha256:" + hex64}},
		{"IPv6 with port", "[::1]:5000/x:1",
			policy.ImageRef{Registry: "[::1]:5000", Repository: "x", Tag: "1"}},
		{"IPv6 without port", "[fe80::1]/x",
			policy.ImageRef{Registry: "[fe80::1]", Repository: "x"}},
		{"upper-case first component is a host", "Example.COM/team/app",
			policy.ImageRef{Registry: "Example.COM", Repository: "team/app"}},
		{"upper-case first component without dot", "MyRegistry/app",
			policy.ImageRef{Registry: "MyRegistry", Repository: "app"}},
		{"tag and digest", "nginx:1.27@sha256:" + hex64,
			policy.ImageRef{Registry: "docker.io", Repository: "library/nginx", Tag: "1.27", Digest: "sha256:" + hex64}},
		{"sha384 digest", "ghcr.io/acme/api@sha384:" + hex96,
			policy.ImageRef{Registry: "ghcr.io", Repository: "acme/api", Digest: "sha384:" + hex96}},
		{"sha512 digest", "ghcr.io/acme/api@sha512:" + hex128,
			policy.ImageRef{Registry: "ghcr.io", Repository: "acme/api", Digest: "sha512:" + hex128}},
		{"port-like tag on hub name", "localhost:5000",
			policy.ImageRef{Registry: "docker.io", Repository: "library/localhost", Tag: "5000"}},
		{"separators", "a.b/c__d/e-f---g/h_i.j:T_1.x-y",
			policy.ImageRef{Registry: "a.b", Repository: "c__d/e-f---g/h_i.j", Tag: "T_1.x-y"}},
		{"tag of 128 characters", "x:" + strings.Repeat("t", 128),
			policy.ImageRef{Registry: "docker.io", Repository: "library/x", Tag: strings.Repeat("t", 128)}},
		{"tag starting with underscore", "x:_1",
			policy.ImageRef{Registry: "docker.io", Repository: "library/x", Tag: "_1"}},

		// Real-world references.
		{"ECR VPC CNI", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1",
			policy.ImageRef{Registry: "602401143452.dkr.ecr.us-west-2.amazonaws.com", Repository: "amazon-k8s-cni", Tag: "v1.8.0-eksbuild.1"}},
		{"ECR VPC CNI init", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init:v1.18.3-eksbuild.1",
			policy.ImageRef{Registry: "602401143452.dkr.ecr.us-west-2.amazonaws.com", Repository: "amazon-k8s-cni-init", Tag: "v1.18.3-eksbuild.1"}},
		{"ECR China CoreDNS", "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/eks/coredns:v1.11.1-eksbuild.9",
			policy.ImageRef{Registry: "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn", Repository: "eks/coredns", Tag: "v1.11.1-eksbuild.9"}},
		{"public ECR LBC", "public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1",
			policy.ImageRef{Registry: "public.ecr.aws", Repository: "eks/aws-load-balancer-controller", Tag: "v2.7.1"}},
		{"registry.k8s.io CoreDNS", "registry.k8s.io/coredns/coredns:v1.11.1",
			policy.ImageRef{Registry: "registry.k8s.io", Repository: "coredns/coredns", Tag: "v1.11.1"}},
		{"hub CoreDNS", "coredns/coredns:1.8.0",
			policy.ImageRef{Registry: "docker.io", Repository: "coredns/coredns", Tag: "1.8.0"}},
		{"kube-proxy", "registry.k8s.io/kube-proxy:v1.30.0",
			policy.ImageRef{Registry: "registry.k8s.io", Repository: "kube-proxy", Tag: "v1.30.0"}},
		{"fluent bit four-part tag", "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008",
			policy.ImageRef{Registry: "public.ecr.aws", Repository: "aws-observability/aws-for-fluent-bit", Tag: "2.32.2.20241008"}},
		{"fluentd daemonset", "fluent/fluentd-kubernetes-daemonset:v1.14.6-debian-cloudwatch-1.1",
			policy.ImageRef{Registry: "docker.io", Repository: "fluent/fluentd-kubernetes-daemonset", Tag: "v1.14.6-debian-cloudwatch-1.1"}},
		{"ghcr", "ghcr.io/acme/api:1.4",
			policy.ImageRef{Registry: "ghcr.io", Repository: "acme/api", Tag: "1.4"}},
		{"ECR by digest", "x.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni@sha256:" + hex64,
			policy.ImageRef{Registry: "x.dkr.ecr.us-east-1.amazonaws.com", Repository: "amazon-k8s-cni", Digest: "sha256:" + hex64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			tt.want.Original = tt.in
			if got != tt.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // fragment of the error text
	}{
		{"empty", "", "empty reference"},
		{"image ID", hex64, "image ID"},
		{"uppercase repository", "Nginx", `repository "Nginx" must be lowercase`},
		{"uppercase repository under registry", "ghcr.io/Acme/api:1", `repository "Acme/api" must be lowercase`},
		{"uppercase hub namespace path", "acme/API", `repository "acme/API" must be lowercase`},
		{"empty tag", "nginx:", "empty tag"},
		{"bad tag start", "nginx:-1", `tag "-1" must start with`},
		{"bad tag char", "nginx:1+2", `tag "1+2" has invalid character '+'`},
		{"tag too long", "nginx:" + strings.Repeat("t", 129), "tag is 129 characters long"},
		{"empty digest", "nginx@", "not of the form algorithm:hex"},
		{"digest without algorithm", "nginx@:" + hex64, "has no algorithm"},
		{"unsupported digest", "nginx@md5:" + hex64[:32], `unsupported algorithm "md5"`},
		{"short digest", "nginx@sha256:abc", "sha256 needs 64 hex digits, got 3"},
		{"sha512 of sha256 length", "nginx@sha512:" + hex64, "sha512 needs 128 hex digits, got 64"},
		{"uppercase digest", "nginx@sha256:" + strings.ToUpper(hex64), "is not a lowercase hex digit"},
		{"digest then tag", "nginx@sha256:" + hex64 + ":tag", "sha256 needs 64 hex digits"},
		{"two @", "nginx@sha256:" + hex64 + "@sha256:" + hex64, "sha256 needs 64 hex digits"},
		{"missing name", ":tag", "missing repository name"},
		{"registry only", "ghcr.io/", "missing repository name"},
		{"empty component", "ghcr.io/a//b", `path component "" is empty`},
		{"leading slash", "/nginx", `path component "" is empty`},
		{"trailing separator", "a-/b", "must end with a letter or digit"},
		{"leading separator", "ghcr.io/-a", "must start with a letter or digit"},
		{"double dot", "a..b", "must start with a letter or digit"},
		{"triple underscore", "a___b", "must start with a letter or digit"},
		{"mixed separators", "a._b", "must start with a letter or digit"},
		{"invalid character", "ghcr.io/a b", "has invalid character ' '"},
		{"bad port", "localhost:abc/x", `port "abc" is not a number`},
		{"empty port", "localhost:/x", `port "" is not a number`},
		{"bad host label", "a..b/x", `invalid host name "a..b"`},
		{"host label with hyphen edge", "-a.b/x", `invalid host name "-a.b"`},
		{"host with underscore", "a_b.c/x", `invalid host name "a_b.c"`},
		{"unterminated IPv6", "[::1/x", "unterminated IPv6"},
		{"bad IPv6", "[::g]:5000/x", "invalid IPv6"},
		{"junk after IPv6", "[::1]x:5/y", "unexpected"},
		{"repository too long", "ghcr.io/" + strings.Repeat("a", 256), "repository is 256 bytes long, more than 255"},
		{"official repository too long", strings.Repeat("a", 248), "repository is 256 bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error containing %q", tt.in, got, tt.want)
			}
			if !errors.Is(err, ErrInvalidReference) {
				t.Errorf("Parse(%q) error %v does not wrap ErrInvalidReference", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error %q, want it to contain %q", tt.in, err, tt.want)
			}
			if got != (policy.ImageRef{}) {
				t.Errorf("Parse(%q) returned %+v with an error", tt.in, got)
			}
		})
	}
}

func TestParseLengthLimit(t *testing.T) {
	// 255 bytes is the limit, counted on the normalised repository; the
	// registry does not count.
	ok := "ghcr.io/" + strings.Repeat("a", 255)
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse of a 255-byte repository: %v", err)
	}
	official := strings.Repeat("a", 247) // library/ + 247 = 255
	if _, err := Parse(official); err != nil {
		t.Errorf("Parse of a 255-byte normalised repository: %v", err)
	}
}

// TestParseAllocs pins the allocation budget: none, except the
// "library/" prefix of an official Docker Hub image.
func TestParseAllocs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want float64
	}{
		{"ECR", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1", 0},
		{"hub user", "coredns/coredns:1.8.0", 0},
		{"digest", "ghcr.io/acme/api:1.4@sha256:" + hex64, 0},
		{"official", "nginx:1.27", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testing.AllocsPerRun(100, func() {
				if _, err := Parse(tt.in); err != nil {
					t.Fatal(err)
				}
			})
			if got != tt.want {
				t.Errorf("Parse(%q) allocates %v times, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// fuzzSeeds are the seeds of the fuzz targets.
var fuzzSeeds = []string{
	"", "nginx", "nginx:1.27", "docker.io/library/nginx:latest", "index.docker.io/x/y",
	"localhost:5000/x:y", "127.0.0.1:5000/a/b@sha256:" + hex64, "[::1]:5000/x",
	"nginx:1@sha256:" + hex64, "a@sha512:" + hex128, "a@sha384:" + hex96,
	"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1",
	"public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1", "Foo/bar", "a__b/c---d.e",
	"Nginx", "nginx:", "nginx@", ":x", "/", "a//b", hex64, "[::1", "a:b:c", "a@b@c",
	"013241004608.dkr.ecr-fips.us-gov-west-1.amazonaws.com/eks/coredns:v1.8.7-eksbuild.3",
	"918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/eks/kube-proxy:v1.28.2-minimal-eksbuild.2",
	"111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/coredns/coredns:1.11.1",
	"public.ecr.aws/eks-distro/coredns/coredns:v1.10.1-eks-1-28-6", "k8s.gcr.io/coredns:1.7.0",
	"registry.local:5000/coredns/coredns:V1.8.4", "coredns/coredns:1.8.4@sha256:" + hex64,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidReference) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalidReference", s, err)
			}
			return
		}
		if ref.Original != s {
			t.Errorf("Original = %q, want %q", ref.Original, s)
		}
		if ref.Registry == "" {
			t.Errorf("Parse(%q): empty Registry", s)
		}
		if ref.Repository == "" || strings.ToLower(ref.Repository) != ref.Repository {
			t.Errorf("Parse(%q): Repository %q is empty or not lowercase", s, ref.Repository)
		}
		if ref.Digest != "" {
			algo, hex, ok := strings.Cut(ref.Digest, ":")
			if !ok || algo == "" || hex == "" || strings.Trim(hex, "0123456789abcdef") != "" {
				t.Errorf("Parse(%q): Digest %q is not algo:hex", s, ref.Digest)
			}
		}
		// The normalised form parses back to the same reference.
		norm := ref.Registry + "/" + ref.Repository
		if ref.Tag != "" {
			norm += ":" + ref.Tag
		}
		if ref.Digest != "" {
			norm += "@" + ref.Digest
		}
		again, err := Parse(norm)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, but its normal form %q fails: %v", s, ref, norm, err)
		}
		again.Original = ref.Original
		if again != ref {
			t.Errorf("Parse(%q) = %+v, but its normal form %q gives %+v", s, ref, norm, again)
		}
	})
}

var sinkRef policy.ImageRef

// benchRefs are real-world references, one of each shape.
var benchRefs = []struct{ name, ref string }{
	{"ecr", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1"},
	{"hub-user", "fluent/fluentd-kubernetes-daemonset:v1.14.6-debian-cloudwatch-1.1"},
	{"hub-official", "nginx:1.27"},
	{"tag-digest", "registry.k8s.io/coredns/coredns:v1.11.1@sha256:" + hex64},
}

func BenchmarkParse(b *testing.B) {
	for _, r := range benchRefs {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ref, err := Parse(r.ref)
				if err != nil {
					b.Fatal(err)
				}
				sinkRef = ref
			}
		})
	}
}
