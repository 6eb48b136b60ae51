package policy

import "testing"

func mustDefault(t testing.TB) *Catalog {
	t.Helper()
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMatchImage(t *testing.T) {
	c := mustDefault(t)
	tests := []struct {
		repo string
		want string // rule id, "" for none
	}{
		{"amazon-k8s-cni", "amazon-vpc-cni"},             // <acct>.dkr.ecr.<region>.amazonaws.com/amazon-k8s-cni
		{"eks/amazon-k8s-cni", "amazon-vpc-cni"},         // public.ecr.aws/eks/amazon-k8s-cni
		{"amazon-k8s-cni-init", "amazon-vpc-cni"},        // init container
		{"amazon/amazon-k8s-cni", "amazon-vpc-cni"},      // mirrors keep the path
		{"cni-metrics-helper", "cni-metrics-helper"},     //
		{"eks/cni-metrics-helper", "cni-metrics-helper"}, //
		{"eks/coredns", "coredns"},
		{"coredns/coredns", "coredns"}, // registry.k8s.io and Docker Hub
		{"coredns", "coredns"},         // k8s.gcr.io/coredns
		{"mirror/registry.k8s.io/coredns/coredns", "coredns"},
		{"eks/aws-load-balancer-controller", "aws-load-balancer-controller"},
		{"amazon/aws-load-balancer-controller", "aws-load-balancer-controller"},
		{"amazon/aws-alb-ingress-controller", "aws-load-balancer-controller"},
		{"aws-alb-ingress-controller", "aws-load-balancer-controller"}, // 894847497797.dkr.ecr.us-west-2.amazonaws.com, v1.0 docs
		{"kube-proxy-s390x", "kube-proxy"},                             // gcr.io/google_containers, Kubernetes <= 1.10
		{"eks-distro/kubernetes/kube-proxy", "kube-proxy"},             // public.ecr.aws/eks-distro
		{"eks-distro/coredns/coredns", "coredns"},                      // public.ecr.aws/eks-distro
		{"ecr-public/eks/coredns", "coredns"},                          // ECR pull-through cache of public.ecr.aws
		{"eks/kube-proxy", "kube-proxy"},
		{"kube-proxy", "kube-proxy"},
		{"aws-observability/aws-for-fluent-bit", "aws-for-fluent-bit"},
		{"amazon/aws-for-fluent-bit", "aws-for-fluent-bit"},
		{"aws-for-fluent-bit", "aws-for-fluent-bit"},
		{"fluent/fluentd", "fluentd"},
		{"fluent/fluentd-kubernetes-daemonset", "fluentd"},
		{"library/fluentd", "fluentd"},
		// Not add-ons: a matching last segment is not enough.
		{"acme/fluentd", ""},
		{"library/nginx", ""},
		{"acme/my-coredns", ""},
		{"amazon-k8s-cni-extra", ""},
		{"eks/kube-proxy-tools", ""},
		{"fluent/fluent-bit", ""},
		{"amazon/aws-network-policy-agent", ""}, // in the aws-node DaemonSet, versioned apart from the CNI
		{"acme/aws-alb-ingress-controller-tools", ""},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			r := c.MatchImage(&ImageRef{Repository: tt.repo})
			got := ""
			if r != nil {
				got = r.ID
			}
			if got != tt.want {
				t.Errorf("MatchImage(%q) = %q, want %q", tt.repo, got, tt.want)
			}
		})
	}
}

func TestMatchPackage(t *testing.T) {
	c := mustDefault(t)
	tests := []struct {
		name string
		p    Package
		want string
	}{
		{"client-go", Package{Type: "golang", Namespace: "k8s.io", Name: "client-go"}, "k8s.io/client-go"},
		{"client-go other module", Package{Type: "golang", Namespace: "k8s.io", Name: "api"}, ""},
		{"pypi", Package{Type: "pypi", Name: "kubernetes"}, "pypi:kubernetes"},
		{"pypi case", Package{Type: "PyPI", Name: "Kubernetes"}, "pypi:kubernetes"},
		{"pypi other", Package{Type: "pypi", Name: "kubernetes-asyncio"}, ""},
		{"maven client-java", Package{Type: "maven", Namespace: "io.kubernetes", Name: "client-java"}, "io.kubernetes:client-java"},
		{"maven client-java-api shares the version", Package{Type: "maven", Namespace: "io.kubernetes", Name: "client-java-api"}, "io.kubernetes:client-java"},
		{"maven other group", Package{Type: "maven", Namespace: "io.fabric8", Name: "kubernetes-client"}, ""},
		{"npm scope @", Package{Type: "npm", Namespace: "@kubernetes", Name: "client-node"}, "@kubernetes/client-node"},
		{"npm scope %40", Package{Type: "npm", Namespace: "%40kubernetes", Name: "client-node"}, "@kubernetes/client-node"},
		{"npm unscoped", Package{Type: "npm", Name: "client-node"}, ""},
		{"gem", Package{Type: "gem", Name: "kubernetes-io"}, "gem:kubernetes-io"},
		{"gem plugin", Package{Type: "gem", Name: "fluent-plugin-kubernetes_metadata_filter"}, "gem:fluent-plugin-kubernetes_metadata_filter"},
		{"hackage", Package{Type: "hackage", Name: "kubernetes-client"}, "hackage:kubernetes-client"},
		{"nuget case-insensitive", Package{Type: "nuget", Name: "kubernetesclient"}, "nuget:KubernetesClient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.MatchPackage(&tt.p)
			got := ""
			if r != nil {
				got = r.ID
			}
			if got != tt.want {
				t.Errorf("MatchPackage(%+v) = %q, want %q", tt.p, got, tt.want)
			}
		})
	}
}
