package policy

import "testing"

// findingOf returns the finding of component, or nil.
func findingOf(fs []Finding, component string) *Finding {
	for i := range fs {
		if fs[i].Component == component {
			return &fs[i]
		}
	}
	return nil
}

// TestAWSMechanismFromContext: a template shows no injected variables;
// the mechanism its service account gives (AWSContext) decides, and the
// AWS SDK packages do not count as a Kubernetes client SDK.
func TestAWSMechanismFromContext(t *testing.T) {
	c := mustDefault(t)
	ev := &Evidence{SBOM: "sbom:spdx-referrer", Packages: []Package{
		{Type: "golang", Namespace: "github.com/aws", Name: "aws-sdk-go", Version: "v1.40.0", Source: "sbom:spdx-referrer"}}}
	template := PodSpec{ServiceAccountName: "uploader", Containers: []Container{{Name: "app", Image: "ghcr.io/acme/up:1"}}}

	fs := c.Evaluate(&template, []*Evidence{ev}, Options{})
	for _, id := range []string{"github.com/aws/aws-sdk-go#irsa", "github.com/aws/aws-sdk-go#pod-identity"} {
		if f := findingOf(fs, id); f == nil || f.Verdict != VerdictNotApplicable || f.Reason != ReasonNoAWSCredentials {
			t.Errorf("without credentials, %s: %+v, want not-applicable", id, f)
		}
	}
	if f := findingOf(fs, ComponentNoSDKEvidence); f == nil || f.Reason != ReasonNoSDKInSBOM {
		t.Errorf("an AWS SDK alone must leave the no-Kubernetes-SDK finding: %+v", fs)
	}
	if w := Worst(fs); w != VerdictOK {
		t.Errorf("worst %s, want ok", w)
	}

	template.AWS = AWSContext{Mechanisms: AWSPodIdentity}
	fs = c.Evaluate(&template, []*Evidence{ev}, Options{})
	if f := findingOf(fs, "github.com/aws/aws-sdk-go#pod-identity"); f == nil || f.Verdict != VerdictTooOld || f.Credentials != CredentialsPodIdentity {
		t.Errorf("with a Pod Identity association: %+v, want too-old", f)
	}
	if f := findingOf(fs, "github.com/aws/aws-sdk-go#irsa"); f == nil || f.Verdict != VerdictNotApplicable {
		t.Errorf("IRSA with only Pod Identity: %+v, want not-applicable", f)
	}

	// A projected token with Pod Identity's audience is the mechanism too,
	// even with automountServiceAccountToken: false.
	no := false
	pod := PodSpec{AutomountServiceAccountToken: &no,
		Containers: []Container{{Name: "app", Image: "ghcr.io/acme/up:1", VolumeMounts: []VolumeMount{{Name: "eks-pod-identity-token", MountPath: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"}}}},
		Volumes:    []Volume{{Name: "eks-pod-identity-token", ServiceAccountToken: &ProjectedToken{Audience: AudiencePodIdentity}}}}
	fs = c.Evaluate(&pod, []*Evidence{ev}, Options{})
	if f := findingOf(fs, "github.com/aws/aws-sdk-go#pod-identity"); f == nil || f.Verdict != VerdictTooOld {
		t.Errorf("mounted Pod Identity token: %+v, want too-old", f)
	}
}

// TestIRSATokenExpiration: the token-expiration annotation counts only
// for a pod that will get IRSA from the webhook, above 90 days, and only
// until the webhook has projected the volume (which the projected-token
// rule then judges).
func TestIRSATokenExpiration(t *testing.T) {
	c := mustDefault(t)
	exp := int64(8640000)
	tests := []struct {
		name string
		pod  PodSpec
		want bool
	}{
		{"IRSA, 100 days", PodSpec{AWS: AWSContext{Mechanisms: AWSIRSA, TokenExpiration: "8640000", TokenExpirationFrom: "pod template"}}, true},
		{"IRSA, 90 days", PodSpec{AWS: AWSContext{Mechanisms: AWSIRSA, TokenExpiration: "7776000", TokenExpirationFrom: "pod template"}}, false},
		{"IRSA, not a number", PodSpec{AWS: AWSContext{Mechanisms: AWSIRSA, TokenExpiration: "100d", TokenExpirationFrom: "pod template"}}, false},
		{"no IRSA", PodSpec{AWS: AWSContext{Mechanisms: AWSPodIdentity, TokenExpiration: "8640000", TokenExpirationFrom: "pod template"}}, false},
		{"already mutated", PodSpec{AWS: AWSContext{Mechanisms: AWSIRSA, TokenExpiration: "8640000", TokenExpirationFrom: "pod"},
			Volumes: []Volume{{Name: IRSAVolumeName, ServiceAccountToken: &ProjectedToken{Audience: AudienceIRSA, ExpirationSeconds: &exp}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := c.Evaluate(&tt.pod, nil, Options{})
			f := findingOf(fs, ComponentIRSATokenExpiration)
			if (f != nil) != tt.want {
				t.Fatalf("finding %+v, want %v", f, tt.want)
			}
			if f != nil && (f.Verdict != VerdictTooOld || f.ExpirationSeconds != 8640000 || f.Detail != "pod template") {
				t.Errorf("finding %+v", f)
			}
		})
	}
}

// TestIRSASkipContainers: the IRSA webhook leaves the containers of
// eks.amazonaws.com/skip-containers alone, so the service account's IRSA
// does not reach them; Pod Identity still does.
func TestIRSASkipContainers(t *testing.T) {
	c := mustDefault(t)
	ev := &Evidence{SBOM: "sbom:spdx-referrer", Packages: []Package{
		{Type: "npm", Name: "aws-sdk", Version: "2.524.0", Source: "sbom:spdx-referrer"}}}
	pod := PodSpec{
		Containers: []Container{{Name: "app", Image: "a:1"}, {Name: "sidecar", Image: "s:1"}},
		AWS:        AWSContext{Mechanisms: AWSIRSA | AWSPodIdentity, SkipContainers: " sidecar ,init"},
	}
	fs := c.Evaluate(&pod, []*Evidence{ev, ev}, Options{})
	verdict := func(ctr, id string) Verdict {
		for _, f := range fs {
			if f.Container == ctr && f.Component == id {
				return f.Verdict
			}
		}
		return ""
	}
	for _, tc := range []struct {
		ctr, id string
		want    Verdict
	}{
		{"app", "npm:aws-sdk#irsa", VerdictTooOld},
		{"sidecar", "npm:aws-sdk#irsa", VerdictNotApplicable},
		{"sidecar", "npm:aws-sdk#pod-identity", VerdictTooOld},
	} {
		if got := verdict(tc.ctr, tc.id); got != tc.want {
			t.Errorf("%s %s: %q, want %s", tc.ctr, tc.id, got, tc.want)
		}
	}
}
