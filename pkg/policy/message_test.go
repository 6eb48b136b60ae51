package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// UPDATE_GOLDEN=1 go test ./pkg/policy/ (or make golden) rewrites
// testdata/messages.golden: the one place the wording is pinned on purpose.
var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

// TestMessagesGolden renders one finding of every reason in each form users
// see: the report/warning sentence, the clause, and the denial.
func TestMessagesGolden(t *testing.T) {
	c := mustDefault(t)
	coredns := c.Rule("coredns")
	clientGo := c.Rule("k8s.io/client-go")
	findings := []Finding{
		{Container: "coredns", Image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1", Component: "coredns", Kind: KindAddon,
			Version: "v1.8.3-eksbuild.1", Minimum: "1.8.4", Source: SourceTag, Verdict: VerdictTooOld, Reason: ReasonBelowMinimum, Fix: fixText(coredns)},
		{Container: "api", Image: "ghcr.io/acme/api:1.4", Component: "k8s.io/client-go", Kind: KindSDK, Version: "v11.0.0+incompatible", Minimum: "v0.15.7",
			Source: "sbom:spdx-referrer", Platform: "linux/arm64", Verdict: VerdictTooOld, Reason: ReasonBelowMinimum,
			Detail: "client-go legacy major (v1.4 to v11) predates the token-refresh fix", Fix: fixText(clientGo)},
		{Container: "dns", Image: "coredns/coredns:1.8", Component: "coredns", Kind: KindAddon, Version: "1.8", Minimum: "1.8.4", Source: SourceTag,
			Verdict: VerdictUnknown, Reason: ReasonIncomparable, Detail: "partial version spans the minimum", Fix: "pin a version tag, or enable registry lookups to read its labels"},
		{Container: "proxy", Image: "registry.k8s.io/kube-proxy:v1.29.0", Component: "kube-proxy", Kind: KindAddon, Version: "v1.29.0", Minimum: MinimumControlPlane,
			Source: SourceTag, Verdict: VerdictUnknown, Reason: ReasonIncomparable, Detail: "the control plane's version is not known",
			Fix: "pass --cluster-version (e.g. v1.30), or set controlPlaneVersion in the configuration"},
		{Container: "cni", Image: "amazon-k8s-cni@sha256:aa", Component: "amazon-vpc-cni", Kind: KindAddon, Minimum: "1.8.0", Source: SourceNone,
			Verdict: VerdictUnknown, Reason: ReasonNoVersion, Detail: "the image is pinned by digest and no version label was read", Fix: "use a version tag, or enable registry lookups to read its labels"},
		{Container: "app", Image: "ghcr.io/acme/app:2", Kind: KindSDK, Source: SourceNone, Verdict: VerdictUnknown, Reason: ReasonNoSDKEvidence,
			Detail: "no SBOM or labels were read", Fix: noSDKEvidenceFix(false)},
		{Container: "app", Image: "ghcr.io/acme/app:2", Kind: KindSDK, Source: SourceNone, Verdict: VerdictUnknown, Reason: ReasonNoSDKEvidence,
			Detail: "registry ghcr.io timed out after 2s", Fix: noSDKEvidenceFix(true)},
		{Container: "app", Image: "ghcr.io/acme/app:2", Kind: KindSDK, Source: "sbom:cyclonedx-referrer", Verdict: VerdictOK, Reason: ReasonNoSDKInSBOM},
		{Container: "web", Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/orders:2.4.1", Component: "@kubernetes/client-node", Kind: KindSDK,
			Version: "0.10.2", Minimum: "0.10.3", Source: "layer:node-package", File: "/app/node_modules/@kubernetes/client-node/package.json",
			Verdict: VerdictTooOld, Reason: ReasonBelowMinimum, Fix: fixText(c.Rule("@kubernetes/client-node"))},
		{Container: "op", Image: "ghcr.io/acme/op:3", Component: "k8s.io/client-go", Kind: KindSDK, Version: "v0.31.2", Minimum: "v0.15.7",
			Source: "layer:go-buildinfo", File: "/manager", Platform: "linux/arm64", Verdict: VerdictOK, Reason: ReasonMeetsMinimum},
		{Container: "app", Image: "ghcr.io/acme/app:2", Kind: KindSDK, Source: SourceLayers, Verdict: VerdictOK, Reason: ReasonNoSDKInLayers},
		{Container: "app", Image: "ghcr.io/acme/app:2", Kind: KindSDK, Source: SourceNone, Verdict: VerdictUnknown, Reason: ReasonNoSDKEvidence,
			Detail: "no SBOM is attached and the scan of its files is under way; the next pod of this image gets its result", Fix: noSDKEvidenceFix(true)},
		{Container: "batch", Image: "ghcr.io/acme/batch:1", Kind: KindSDK, Source: SourcePodSpec, Verdict: VerdictNotApplicable, Reason: ReasonNoToken},
		{Container: "batch", Image: "ghcr.io/acme/batch:1", Component: "pypi:kubernetes", Kind: KindSDK, Version: "11.0.0", Minimum: "12.0.0",
			Source: "sbom:spdx-referrer", Verdict: VerdictNotApplicable, Reason: ReasonNoToken},
		{Container: "api", Image: "ghcr.io/acme/api:2", Component: "k8s.io/client-go", Kind: KindSDK, Version: "v0.29.3", Minimum: "v0.15.7",
			Source: "label:org.opencontainers.image.version", Verdict: VerdictOK, Reason: ReasonMeetsMinimum},
		{Container: "api", Component: ComponentTokenExpiration, Kind: KindToken, Source: SourcePodSpec, Verdict: VerdictTooOld,
			Reason: ReasonTokenExpiration, Volume: "token", ExpirationSeconds: 31536000, Fix: fixTokenExpiration},
		{Container: "api", Component: ComponentLegacyTokenSecret, Kind: KindToken, Source: SourcePodSpec, Verdict: VerdictTooOld,
			Reason: ReasonLegacyTokenSecret, Volume: "legacy", Secret: "api-token-x7k2p", Fix: fixLegacyToken},
	}
	findings = append(findings, awsMessageFindings(t, c)...)
	var b strings.Builder
	var denying []*Finding
	for i := range findings {
		f := &findings[i]
		b.WriteString("[" + string(f.Reason) + " " + string(f.Verdict) + "]\n")
		b.WriteString("message: " + f.Message() + "\n")
		b.WriteString("clause:  " + f.Clause() + "\n\n")
		if f.Verdict == VerdictTooOld {
			denying = append(denying, f)
		}
		if !strings.HasSuffix(f.Message(), f.Clause()) {
			t.Errorf("%s: the message does not end with the clause", f.Reason)
		}
	}
	b.WriteString("[denial]\n" + DenialMessage(denying) + "\n")
	got := b.String()
	path := filepath.Join("testdata", "messages.golden")
	if updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 creates it)", err)
	}
	if got != string(want) {
		t.Errorf("messages differ from %s (make golden regenerates it after review)\n--- got\n%s", path, got)
	}
}

func TestMessageDeterministicAndComplete(t *testing.T) {
	// Same finding, same bytes; and no part is dropped however many
	// containers a denial names (the old builder stopped at 32 parts).
	f := Finding{Container: "c", Component: "coredns", Version: "1.0.0", Minimum: "1.8.4", Source: SourceTag,
		Verdict: VerdictTooOld, Reason: ReasonBelowMinimum, Fix: "update CoreDNS"}
	if f.Message() != f.Message() {
		t.Fatal("not deterministic")
	}
	var fs []*Finding
	for range 40 {
		fs = append(fs, &f)
	}
	if got := strings.Count(DenialMessage(fs), "update CoreDNS"); got != 40 {
		t.Errorf("denial of 40 findings names the fix %d times", got)
	}
}

// awsMessageFindings are the AWS findings of the golden file, made by
// Evaluate so that they are what users get: each mechanism too old and
// meeting its minimum, not-applicable, advisory, and the IRSA token
// lifetime asked by a service account's annotation.
func awsMessageFindings(t *testing.T, c *Catalog) []Finding {
	t.Helper()
	podIdentity := []EnvVar{{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
		{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}}
	irsa := []EnvVar{{Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::111122223333:role/reports"},
		{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}}
	pkg := func(typ, ns, name, version, source, file string) *Evidence {
		return &Evidence{Packages: []Package{{Type: typ, Namespace: ns, Name: name, Version: version, Source: source, File: file}}, SBOM: source}
	}
	cases := []struct {
		pod PodSpec
		ev  *Evidence
	}{
		{PodSpec{Containers: []Container{{Name: "uploader", Image: "ghcr.io/acme/uploader:5", Env: podIdentity}}},
			pkg("golang", "github.com/aws", "aws-sdk-go", "v1.47.10", "layer:go-buildinfo", "/usr/local/bin/uploader")},
		{PodSpec{Containers: []Container{{Name: "uploader", Image: "ghcr.io/acme/uploader:6", Env: podIdentity}}},
			pkg("golang", "github.com/aws", "aws-sdk-go", "v1.47.11", "layer:go-buildinfo", "/usr/local/bin/uploader")},
		{PodSpec{Containers: []Container{{Name: "reports", Image: "ghcr.io/acme/reports:1", Env: irsa}}},
			pkg("npm", "", "aws-sdk", "2.524.0", "layer:node-package", "/app/node_modules/aws-sdk/package.json")},
		{PodSpec{Containers: []Container{{Name: "etl", Image: "ghcr.io/acme/etl:3"}}},
			pkg("pypi", "", "botocore", "1.29.27", "sbom:spdx-referrer", "")},
		{PodSpec{Containers: []Container{{Name: "billing", Image: "ghcr.io/acme/billing:9", Env: podIdentity}}},
			pkg("maven", "com.amazonaws", "aws-java-sdk-core", "1.12.700", "sbom:cyclonedx-referrer", "")},
		{PodSpec{Containers: []Container{{Name: "billing", Image: "ghcr.io/acme/billing:9", Env: irsa}}},
			pkg("maven", "com.amazonaws", "aws-java-sdk-core", "1.12.500", "sbom:cyclonedx-referrer", "")},
		{PodSpec{ServiceAccountName: "reports", Containers: []Container{{Name: "reports", Image: "ghcr.io/acme/reports:2"}},
			AWS: AWSContext{Mechanisms: AWSIRSA, TokenExpiration: "8640000", TokenExpirationFrom: `service account "reports"`}},
			pkg("npm", "", "aws-sdk", "2.1692.0", "layer:node-package", "/app/node_modules/aws-sdk/package.json")},
	}
	var out []Finding
	for _, tc := range cases {
		for _, f := range c.Evaluate(&tc.pod, []*Evidence{tc.ev}, Options{}) {
			if f.Kind == KindAWSSDK || f.Component == ComponentIRSATokenExpiration {
				out = append(out, f)
			}
		}
	}
	if len(out) < 12 {
		t.Fatalf("%d AWS findings, want at least 12: %+v", len(out), out)
	}
	return out
}
