package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// UPDATE_GOLDEN=1 go test ./pkg/report/ rewrites the golden files.
var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (UPDATE_GOLDEN=1 regenerates it after review)\n--- got\n%s", path, got)
	}
}

// ciFixture is a report with one of every case the CI renderings tell
// apart: too-old, unknown, advisory too-old, exempt, ok, not-applicable;
// a token finding without a container; an application image without SDK
// evidence; a rule no catalog knows; lines known for the image, for the
// object only, and not at all; a relative path with a space, an absolute
// one, stdin; text that XML and Markdown must escape; and input errors.
func ciFixture() ([]Result, []Error) {
	tooOld := policy.Finding{Container: "api", Image: "ghcr.io/acme/api:1.4", Component: "k8s.io/client-go", Kind: policy.KindSDK,
		Version: "v0.14.2", Minimum: "v0.15.7", Source: "sbom:spdx-referrer", Verdict: policy.VerdictTooOld,
		Reason: policy.ReasonBelowMinimum, Fix: "upgrade k8s.io/client-go to v0.15.7 or later"}
	advisory := policy.Finding{Container: "api", Image: "ghcr.io/acme/api:1.4", Component: "pypi:botocore#pod-identity", Kind: policy.KindAWSSDK,
		Version: "1.33.0", Minimum: "1.34.41", Source: "sbom:spdx-referrer", Verdict: policy.VerdictTooOld, Reason: policy.ReasonBelowMinimum,
		Credentials: policy.CredentialsPodIdentity, Advisory: "sources <disagree> & \"differ\"", Fix: "upgrade botocore"}
	noEvidence := policy.Finding{Container: "side\x01car", Image: "registry.example.com/side:2024]]>", Kind: policy.KindSDK, Source: "none",
		Verdict: policy.VerdictUnknown, Reason: policy.ReasonNoSDKEvidence, Detail: "no SBOM <attached>", Fix: "attach an SBOM"}
	rs := []Result{
		{Kind: "Deployment", Namespace: "prod", Name: "api", Verdict: policy.VerdictTooOld,
			Source: "manifests/my apps.yaml", Document: 2, Line: 30, ImageLines: map[string]int{"api": 41, "side\x01car": 44},
			Findings: []policy.Finding{tooOld, advisory, noEvidence}},
		{Kind: "DaemonSet", Namespace: "kube-system", Name: "coredns", Verdict: policy.VerdictOK,
			Source: "/abs/addons.yaml", Document: 1, Line: 1, ImageLines: map[string]int{"coredns": 19},
			Findings: []policy.Finding{{Container: "coredns", Image: "coredns/coredns:1.9.3", Component: "coredns", Kind: policy.KindAddon,
				Version: "1.9.3", Minimum: "1.8.4", Source: "tag", Verdict: policy.VerdictOK, Reason: policy.ReasonMeetsMinimum}}},
		{Kind: "Pod", Namespace: "dev", Name: "exempted", Verdict: policy.VerdictNotApplicable,
			Source: "manifests/my apps.yaml", Document: 3, Line: 50,
			Findings: []policy.Finding{
				{Container: "old", Image: "coredns/coredns:1.6.0", Component: "coredns", Kind: policy.KindAddon, Version: "1.6.0",
					Minimum: "1.8.4", Source: "tag", Verdict: policy.VerdictTooOld, Reason: policy.ReasonBelowMinimum,
					Fix: "update", Exempt: "namespace dev is exempt"},
				{Container: "quiet", Image: "ghcr.io/acme/q:1", Kind: policy.KindSDK, Source: "none",
					Verdict: policy.VerdictNotApplicable, Reason: policy.ReasonNoToken}}},
		{Kind: "Deployment", Namespace: "prod", Name: "irsa", Verdict: policy.VerdictTooOld, Source: "-", Document: 1, Line: 3,
			Findings: []policy.Finding{
				{Component: policy.ComponentIRSATokenExpiration, Kind: policy.KindToken, Source: policy.SourcePodSpec,
					Verdict: policy.VerdictTooOld, Reason: policy.ReasonTokenExpiration, Detail: "pod annotation",
					Fix:    "set eks.amazonaws.com/token-expiration on the pod annotation to 7776000 or less",
					Volume: policy.IRSAVolumeName, ExpirationSeconds: 8000000},
				{Container: "x", Image: "x:1", Component: "example.com/not-in-catalog", Kind: policy.KindSDK, Version: "1",
					Minimum: "2", Source: "tag", Verdict: policy.VerdictUnknown, Reason: policy.ReasonIncomparable, Detail: "?"}}},
		{Kind: "Job", Name: "unplaced", Verdict: policy.VerdictTooOld,
			Findings: []policy.Finding{{Container: "t", Image: "t:1", Component: policy.ComponentLegacyTokenSecret, Kind: policy.KindToken,
				Source: policy.SourcePodSpec, Verdict: policy.VerdictTooOld, Reason: policy.ReasonLegacyTokenSecret,
				Volume: "token", Secret: "t-token-abcde", Fix: "delete the volume"}}},
	}
	errs := []Error{
		{Source: "manifests/broken.yaml", Document: 4, Message: "manifests/broken.yaml: document 4: yaml: line 7: <bad> & \"worse\""},
		{Source: "-", Document: 2, Message: "-: document 2: kind: required value"},
	}
	return rs, errs
}
