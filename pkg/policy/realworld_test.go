package policy_test

import (
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

const sha = "sha256:3c03aaed555bd64b9097d587d8c438c2e2cb032adbb899457362f7ba34c8de19"

// TestRealWorldImages runs image references seen in public manifests,
// charts and docs through the tag-only evidence path (ParseImage, the
// catalog's repository patterns, the version schemes) and pins the
// verdict FACTS.md calls for. component "" means the image must not be
// taken for a catalogued add-on; for unknown verdicts, reason is a
// substring the message must carry so an operator knows what to do.
func TestRealWorldImages(t *testing.T) {
	c, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		image     string
		cp        string // control-plane version, for kube-proxy
		component string
		want      policy.Verdict
		reason    string
	}{
		// ---- Amazon VPC CNI ----
		// aws/amazon-vpc-cni-k8s config/master/aws-k8s-cni.yaml and charts/aws-vpc-cni
		// (image <account>.dkr.ecr.<region>.<amazonaws.com|amazonaws.com.cn>/amazon-k8s-cni[-init]);
		// EKS add-on tags vX.Y.Z-eksbuild.N from `aws eks describe-addon-versions`;
		// accounts from the FACTS.md table (China, GovCloud, opt-in regions, FIPS endpoint).
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1", component: "amazon-vpc-cni", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init:v1.18.3-eksbuild.1", component: "amazon-vpc-cni", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.5-eksbuild.1", component: "amazon-vpc-cni", want: policy.VerdictTooOld},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.10", component: "amazon-vpc-cni", want: policy.VerdictTooOld},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:1.5.5", component: "amazon-vpc-cni", want: policy.VerdictTooOld},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-rc1", component: "amazon-vpc-cni", want: policy.VerdictTooOld},
		{image: "public.ecr.aws/eks/amazon-k8s-cni:v1.18.3", component: "amazon-vpc-cni", want: policy.VerdictOK},
		{image: "public.ecr.aws/eks/amazon-k8s-cni-init:v1.12.6", component: "amazon-vpc-cni", want: policy.VerdictOK},
		{image: "961992271922.dkr.ecr.cn-northwest-1.amazonaws.com.cn/amazon-k8s-cni:v1.12.6-eksbuild.2", component: "amazon-vpc-cni", want: policy.VerdictOK},
		{image: "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/amazon-k8s-cni:v1.7.5", component: "amazon-vpc-cni", want: policy.VerdictTooOld},
		{image: "013241004608.dkr.ecr-fips.us-gov-west-1.amazonaws.com/amazon-k8s-cni:v1.15.1-eksbuild.1", component: "amazon-vpc-cni", want: policy.VerdictOK},
		{image: "151742754352.dkr.ecr.us-gov-east-1.amazonaws.com/amazon-k8s-cni-init:v1.8.0-eksbuild.1", component: "amazon-vpc-cni", want: policy.VerdictOK},
		{image: "877085696533.dkr.ecr.af-south-1.amazonaws.com/amazon-k8s-cni:V1.8.0-EKSBUILD.1", component: "amazon-vpc-cni", want: policy.VerdictOK},
		// ECR pull-through cache rule with prefix ecr-public (AWS ECR user guide, pull through cache).
		{image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/ecr-public/eks/amazon-k8s-cni:v1.18.3", component: "amazon-vpc-cni", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1@" + sha, component: "amazon-vpc-cni", want: policy.VerdictUnknown, reason: "next to a digest"}, // issue #13: not ok by the tag alone
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni@" + sha, component: "amazon-vpc-cni", want: policy.VerdictUnknown, reason: "pinned by digest"},
		// The aws-node DaemonSet's network-policy agent is versioned on its own (v1.0.x):
		// it must not be judged against the CNI's 1.8.0.
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.0.4-eksbuild.1", component: ""},
		// ---- CNI metrics helper ----
		// aws/amazon-vpc-cni-k8s charts/cni-metrics-helper values; public.ecr.aws/eks/cni-metrics-helper.
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/cni-metrics-helper:v1.18.3", component: "cni-metrics-helper", want: policy.VerdictOK},
		{image: "public.ecr.aws/eks/cni-metrics-helper:v1.7.10", component: "cni-metrics-helper", want: policy.VerdictTooOld},
		// ---- CoreDNS ----
		// EKS user guide, CoreDNS add-on (eks/coredns:v1.11.1-eksbuild.4 and older eksbuild tags);
		// kubeadm's default images (registry.k8s.io/coredns/coredns:v1.8.4, and
		// k8s.gcr.io/coredns:1.7.0 before the coredns/ directory); Docker Hub
		// coredns/coredns tags without "v" (coredns/coredns Makefile.docker).
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.1-eksbuild.4", component: "coredns", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1", component: "coredns", want: policy.VerdictTooOld},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.4-eksbuild.1", component: "coredns", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.7.0-eksbuild.1", component: "coredns", want: policy.VerdictTooOld},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.6.6-eksbuild.1", component: "coredns", want: policy.VerdictTooOld},
		{image: "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/eks/coredns:v1.11.1-eksbuild.9", component: "coredns", want: policy.VerdictOK},
		{image: "013241004608.dkr.ecr-fips.us-gov-west-1.amazonaws.com/eks/coredns:v1.8.7-eksbuild.3", component: "coredns", want: policy.VerdictOK},
		{image: "registry.k8s.io/coredns/coredns:v1.8.4", component: "coredns", want: policy.VerdictOK},
		{image: "registry.k8s.io/coredns/coredns:v1.8.0", component: "coredns", want: policy.VerdictTooOld},
		{image: "k8s.gcr.io/coredns/coredns:v1.8.4", component: "coredns", want: policy.VerdictOK},
		{image: "k8s.gcr.io/coredns:1.7.0", component: "coredns", want: policy.VerdictTooOld},
		{image: "k8s.gcr.io/coredns:1.6.7", component: "coredns", want: policy.VerdictTooOld},
		{image: "coredns/coredns:1.8.4", component: "coredns", want: policy.VerdictOK},
		{image: "coredns/coredns:1.8.3", component: "coredns", want: policy.VerdictTooOld},
		{image: "docker.io/coredns/coredns:1.8.0", component: "coredns", want: policy.VerdictTooOld},
		{image: "coredns/coredns:1.8.4@" + sha, component: "coredns", want: policy.VerdictUnknown, reason: "next to a digest"},
		{image: "coredns/coredns:1.8", component: "coredns", want: policy.VerdictUnknown, reason: "partial version"},
		{image: "coredns/coredns:latest", component: "coredns", want: policy.VerdictUnknown, reason: "floating tag"},
		// No tag: the runtime pulls latest.
		{image: "coredns/coredns", component: "coredns", want: policy.VerdictUnknown, reason: "pulls whatever latest points to"},
		{image: "mcr.microsoft.com/oss/kubernetes/coredns:v1.9.4-hotfix.20240704", component: "coredns", want: policy.VerdictOK},
		{image: "mirror.gcr.io/coredns/coredns:1.11.1", component: "coredns", want: policy.VerdictOK},
		{image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/coredns/coredns:1.11.1", component: "coredns", want: policy.VerdictOK},
		{image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/ecr-public/eks-distro/coredns/coredns:v1.8.3-eks-1-21-4", component: "coredns", want: policy.VerdictTooOld},
		{image: "registry.local:5000/coredns/coredns:V1.8.4", component: "coredns", want: policy.VerdictOK},
		// EKS Distro tags: v<upstream>-eks-<k8s major>-<minor>-<release>
		// (aws/eks-anywhere EKSCoreDNSVersionMap: v1.10.1-eks-1-28-6; install
		// guides pulling v1.7.0-eks-1-18-1; CI scripts pinning v1.11.4-eks-1-31-latest).
		{image: "public.ecr.aws/eks-distro/coredns/coredns:v1.10.1-eks-1-28-6", component: "coredns", want: policy.VerdictOK},
		{image: "public.ecr.aws/eks-distro/coredns/coredns:v1.7.0-eks-1-18-1", component: "coredns", want: policy.VerdictTooOld},
		{image: "public.ecr.aws/eks-distro/coredns/coredns:v1.8.4-eks-1-21-9", component: "coredns", want: policy.VerdictOK},
		{image: "public.ecr.aws/eks-distro/coredns/coredns:v1.11.4-eks-1-31-latest", component: "coredns", want: policy.VerdictOK},
		// ---- AWS Load Balancer Controller ----
		// aws/eks-charts and kubernetes-sigs/aws-load-balancer-controller helm values
		// (public.ecr.aws/eks/..., 602401143452.../amazon/aws-load-balancer-controller);
		// aws-alb-ingress-controller docs (docker.io/amazon/aws-alb-ingress-controller:v1.1.x);
		// the v1.0 docs, incubator chart README and Terraform modules
		// (894847497797.dkr.ecr.us-west-2.amazonaws.com/aws-alb-ingress-controller:v1.0.0,
		// also by digest in a `kubectl get nodes -o json` dump); quay.io/coreos for pre-1.0.
		{image: "public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1", component: "aws-load-balancer-controller", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-load-balancer-controller:v2.4.7", component: "aws-load-balancer-controller", want: policy.VerdictOK},
		{image: "amazon/aws-alb-ingress-controller:v1.1.9", component: "aws-load-balancer-controller", want: policy.VerdictTooOld},
		{image: "docker.io/amazon/aws-alb-ingress-controller:v1.1.3", component: "aws-load-balancer-controller", want: policy.VerdictTooOld},
		{image: "amazon/aws-alb-ingress-controller:v2.2.4", component: "aws-load-balancer-controller", want: policy.VerdictOK},
		{image: "amazon/aws-alb-ingress-controller:v2.0.0", component: "aws-load-balancer-controller", want: policy.VerdictOK},
		{image: "quay.io/coreos/alb-ingress-controller:1.0-beta.7", component: "aws-load-balancer-controller", want: policy.VerdictTooOld},
		{image: "894847497797.dkr.ecr.us-west-2.amazonaws.com/aws-alb-ingress-controller:v1.0.0", component: "aws-load-balancer-controller", want: policy.VerdictTooOld},
		{image: "894847497797.dkr.ecr.us-west-2.amazonaws.com/aws-alb-ingress-controller@" + sha, component: "aws-load-balancer-controller", want: policy.VerdictUnknown, reason: "pinned by digest"},
		// ---- kube-proxy ----
		// EKS user guide, kube-proxy add-on (eks/kube-proxy:v1.29.0-minimal-eksbuild.2);
		// the skew rule: not newer than the API server, 3 minors older, 2 below 1.25.
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.2", cp: "v1.29", component: "kube-proxy", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.2", cp: "v1.32", component: "kube-proxy", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.2", cp: "v1.33", component: "kube-proxy", want: policy.VerdictTooOld},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.24.17-eksbuild.1", cp: "v1.26", component: "kube-proxy", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.24.17-eksbuild.1", cp: "v1.27", component: "kube-proxy", want: policy.VerdictTooOld},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.2", component: "kube-proxy", want: policy.VerdictUnknown, reason: "--cluster-version"},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.30.0-eksbuild.3", cp: "v1.29", component: "kube-proxy", want: policy.VerdictUnknown, reason: "newer than the control plane"},
		{image: "registry.k8s.io/kube-proxy:v1.30.2", cp: "v1.30", component: "kube-proxy", want: policy.VerdictOK},
		{image: "k8s.gcr.io/kube-proxy-amd64:v1.10.11", cp: "v1.29", component: "kube-proxy", want: policy.VerdictTooOld},
		{image: "public.ecr.aws/eks-distro/kubernetes/kube-proxy:v1.29.1-eks-1-29-6", cp: "v1.30", component: "kube-proxy", want: policy.VerdictOK},
		{image: "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/eks/kube-proxy:v1.28.2-minimal-eksbuild.2", cp: "v1.28", component: "kube-proxy", want: policy.VerdictOK},
		{image: "registry.k8s.io/kube-proxy:V1.30.2", cp: "v1.30", component: "kube-proxy", want: policy.VerdictOK},
		{image: "registry.k8s.io/kube-proxy:latest", cp: "v1.30", component: "kube-proxy", want: policy.VerdictUnknown, reason: "floating"},
		// kubernetes-sigs/sig-windows-tools hostprocess manifests; Windows hosts run kube-proxy in a pod too.
		{image: "sigwindowstools/kube-proxy:v1.30.1-calico-hostprocess", cp: "v1.30", component: "kube-proxy", want: policy.VerdictOK},
		{image: "sigwindowstools/kube-proxy:v1.18.0", cp: "v1.30", component: "kube-proxy", want: policy.VerdictTooOld},
		// kubernetes/kubernetes cluster build logs (gcr.io/google_containers, Kubernetes <= 1.10).
		{image: "gcr.io/google_containers/kube-proxy-s390x:v1.8.4", cp: "v1.30", component: "kube-proxy", want: policy.VerdictTooOld},
		// AKS and GKE builds of the same components keep the upstream version first.
		{image: "mcr.microsoft.com/oss/kubernetes/kube-proxy:v1.28.5-hotfix.20240411", cp: "v1.29", component: "kube-proxy", want: policy.VerdictOK},
		{image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy@" + sha, cp: "v1.30", component: "kube-proxy", want: policy.VerdictUnknown, reason: "pinned by digest"},
		// ---- AWS for Fluent Bit ----
		// aws/aws-for-fluent-bit README and CHANGELOG (2.32.2.20241008, stable, init-<version>,
		// init-latest, Docker Hub amazon/, regional 906394416424); ECS developer guide and
		// amazon-cloudwatch-container-insights (windowsservercore-stable); Terraform and
		// Pulumi code (amazon/aws-for-fluent-bit:2.10.0, 906394416424...:2.23.3, an ECR
		// pull-through cache .../public-ecr/aws-observability/aws-for-fluent-bit:2.19.0).
		// 2.31.12-windowsservercore is the shape the scheme documents, not a seen tag.
		{image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008", component: "aws-for-fluent-bit", want: policy.VerdictOK},
		{image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.28.4", component: "aws-for-fluent-bit", want: policy.VerdictOK},
		{image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", component: "aws-for-fluent-bit", want: policy.VerdictUnknown, reason: "floating tag"},
		{image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:windowsservercore-stable", component: "aws-for-fluent-bit", want: policy.VerdictUnknown, reason: "floating tag"},
		{image: "amazon/aws-for-fluent-bit:windowsservercore-latest", component: "aws-for-fluent-bit", want: policy.VerdictUnknown, reason: "floating tag"},
		{image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:init-2.32.0", component: "aws-for-fluent-bit", want: policy.VerdictOK},
		{image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:init-latest", component: "aws-for-fluent-bit", want: policy.VerdictUnknown, reason: "floating tag"},
		{image: "amazon/aws-for-fluent-bit:2.31.12", component: "aws-for-fluent-bit", want: policy.VerdictOK},
		{image: "amazon/aws-for-fluent-bit:2.31.12-windowsservercore", component: "aws-for-fluent-bit", want: policy.VerdictOK},
		{image: "amazon/aws-for-fluent-bit:2.10.0", component: "aws-for-fluent-bit", want: policy.VerdictTooOld},
		{image: "amazon/aws-for-fluent-bit:2.24.0", component: "aws-for-fluent-bit", want: policy.VerdictTooOld},
		{image: "amazon/aws-for-fluent-bit:1.2.0", component: "aws-for-fluent-bit", want: policy.VerdictTooOld},
		{image: "906394416424.dkr.ecr.us-east-1.amazonaws.com/aws-for-fluent-bit:2.23.3", component: "aws-for-fluent-bit", want: policy.VerdictTooOld},
		{image: "812957082909.dkr.ecr.eu-central-1.amazonaws.com/public-ecr/aws-observability/aws-for-fluent-bit:2.19.0", component: "aws-for-fluent-bit", want: policy.VerdictTooOld},
		{image: "amazon/aws-for-fluent-bit:latest", component: "aws-for-fluent-bit", want: policy.VerdictUnknown, reason: "floating tag"},
		// Upstream Fluent Bit is not AWS for Fluent Bit: its 2.x/3.x must not be read as AWS versions.
		{image: "fluent/fluent-bit:1.9.3", component: ""},
		{image: "cr.fluentbit.io/fluent/fluent-bit:3.0.4", component: ""},
		// ---- Fluentd ----
		// fluent/fluentd-docker-image README (v1.14.6-1.2, v1.16-1, v1.16-debian-1,
		// v1.16.2-debian-amd64-1.0); fluent/fluentd-kubernetes-daemonset README and public
		// manifests (v1.16-debian-cloudwatch-1, v1-debian-elasticsearch, v1.4.2-debian-elasticsearch-1.1);
		// EKS Container Insights fluentd manifest (v1.7.3-debian-cloudwatch-1.0).
		{image: "fluent/fluentd:v1.14.6-1.2", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd:v1.14.6-1.1", component: "fluentd", want: policy.VerdictTooOld},
		{image: "fluent/fluentd:v1.16-1", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd:v1.14-1", component: "fluentd", want: policy.VerdictUnknown, reason: "partial version"},
		{image: "fluent/fluentd:v1.14.6-debian-1.2", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd:v1.16.2-debian-amd64-1.0", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd:v1.9.1-1.0", component: "fluentd", want: policy.VerdictTooOld},
		{image: "fluent/fluentd:edge-debian", component: "fluentd", want: policy.VerdictUnknown, reason: "floating tag"},
		{image: "fluentd:v1.16.2-1.0", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd-kubernetes-daemonset:v1.16-debian-cloudwatch-1", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd-kubernetes-daemonset:v1.14.6-debian-cloudwatch-1.1", component: "fluentd", want: policy.VerdictTooOld},
		{image: "fluent/fluentd-kubernetes-daemonset:v1.7.3-debian-cloudwatch-1.0", component: "fluentd", want: policy.VerdictTooOld},
		{image: "fluent/fluentd-kubernetes-daemonset:v1.16.2-debian-elasticsearch8-amd64-1.1", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd-kubernetes-daemonset:v1.4-debian-cloudwatch-1", component: "fluentd", want: policy.VerdictTooOld},
		{image: "fluent/fluentd-kubernetes-daemonset:v0.12-debian-elasticsearch", component: "fluentd", want: policy.VerdictTooOld},
		// The most common daemonset tag in public manifests floats over all of v1.
		{image: "fluent/fluentd-kubernetes-daemonset:v1-debian-elasticsearch", component: "fluentd", want: policy.VerdictUnknown, reason: "partial version"},
		{image: "fluent/fluentd-kubernetes-daemonset:v1-debian-forward", component: "fluentd", want: policy.VerdictUnknown, reason: "partial version"},
		{image: "fluent/fluentd-kubernetes-daemonset:v1.16", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd-kubernetes-daemonset:v1.4.2-debian-elasticsearch-1.1", component: "fluentd", want: policy.VerdictTooOld},
		{image: "fluent/fluentd-kubernetes-daemonset:v1.3.3-debian-elasticsearch-1.3", component: "fluentd", want: policy.VerdictTooOld},
		{image: "fluent/fluentd:v1.16-debian-1", component: "fluentd", want: policy.VerdictOK},
		{image: "fluent/fluentd:v1.11-debian-1", component: "fluentd", want: policy.VerdictTooOld},
		{image: "fluent/fluentd:v1.14-debian", component: "fluentd", want: policy.VerdictUnknown, reason: "partial version"},
		{image: "fluent/fluentd:v1.12.0-debian-1.0", component: "fluentd", want: policy.VerdictTooOld},
		{image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/fluentd:v1.16-1", component: "fluentd", want: policy.VerdictOK},
		// ---- not add-ons ----
		{image: "nginx:1.27", component: ""},
		{image: "ghcr.io/acme/coredns-exporter:0.1.0", component: ""},
	}
	for _, tt := range tests {
		name := tt.image
		if tt.cp != "" {
			name += " cp=" + tt.cp
		}
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			var opts policy.Options
			if tt.cp != "" {
				v, err := policy.ParseKubeVersion(tt.cp)
				if err != nil {
					t.Fatal(err)
				}
				opts.ControlPlane = &v
			}
			p := &policy.PodSpec{Containers: []policy.Container{{Name: "c", Image: tt.image}}}
			fs := c.Evaluate(p, []*policy.Evidence{sdkdetect.TagEvidence(tt.image)}, opts)
			if len(fs) != 1 {
				t.Fatalf("%d findings: %+v", len(fs), fs)
			}
			f := fs[0]
			if tt.component == "" {
				if f.Kind == policy.KindAddon {
					t.Fatalf("taken for add-on %s: %s", f.Component, f.Message())
				}
				return
			}
			if f.Component != tt.component {
				t.Fatalf("component %q, want %q: %s", f.Component, tt.component, f.Message())
			}
			if f.Verdict != tt.want {
				t.Errorf("verdict %s, want %s: %s", f.Verdict, tt.want, f.Message())
			}
			if tt.reason != "" && !strings.Contains(f.Detail+"; "+f.Fix, tt.reason) {
				t.Errorf("detail and fix lack %q: %+v", tt.reason, f)
			}
		})
	}
}
