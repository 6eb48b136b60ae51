package imageevidence

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/imageref"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

var (
	digestA = "sha256:" + strings.Repeat("a1", 32)
	digestB = "sha256:" + strings.Repeat("b2", 32)
	now     = time.Date(2026, 5, 1, 12, 30, 45, 123456789, time.UTC)
)

func defaultCatalog(t testing.TB) *policy.Catalog {
	t.Helper()
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func mustRef(t testing.TB, image string) policy.ImageRef {
	t.Helper()
	ref, err := imageref.Parse(image)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// podFor is a pod of one container running image, with the default token
// mount (or none) and the AWS credential mechanisms given.
func podFor(image string, token bool, aws policy.AWSMechanism) *policy.PodSpec {
	p := &policy.PodSpec{
		Containers: []policy.Container{{Name: "app", Image: image}},
		AWS:        policy.AWSContext{Mechanisms: aws},
	}
	if !token {
		no := false
		p.AutomountServiceAccountToken = &no
	}
	return p
}

// storedAndRead is what a reader gets: ie written to JSON (as the API
// server stores it), read back, and converted for ref.
func storedAndRead(t *testing.T, ie *v1alpha1.ImageEvidence, ref policy.ImageRef) *policy.Evidence {
	t.Helper()
	data, err := json.Marshal(ie)
	if err != nil {
		t.Fatal(err)
	}
	var back v1alpha1.ImageEvidence
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	return ToEvidence(&back, ref)
}

type roundTripCase struct {
	name   string
	image  string
	digest string
	ev     func(ref policy.ImageRef) *policy.Evidence
	token  bool
	aws    policy.AWSMechanism
	// worst and reason pin what the evidence decides, so that a round trip
	// that lost it could not pass by both sides saying nothing.
	worst  policy.Verdict
	reason policy.Reason
}

func roundTripCases() []roundTripCase {
	return []roundTripCase{
		{
			name: "SBOM with client-go", image: "ghcr.io/acme/api:1.4", digest: digestA, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, SBOM: "sbom:spdx-referrer", Packages: []policy.Package{
					{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", Source: "sbom:spdx-referrer"},
					{Type: "golang", Namespace: "github.com/spf13", Name: "cobra", Version: "v1.8.0", Source: "sbom:spdx-referrer"},
				}}
			},
			worst: policy.VerdictTooOld, reason: policy.ReasonBelowMinimum,
		},
		{
			name: "SBOM without a catalogued SDK", image: "ghcr.io/acme/web:2.0", digest: digestA, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, SBOM: "sbom:cyclonedx-sbom-tag", Packages: []policy.Package{
					{Type: "npm", Name: "left-pad", Version: "1.3.0", Source: "sbom:cyclonedx-sbom-tag"},
				}}
			},
			worst: policy.VerdictOK, reason: policy.ReasonNoSDKInSBOM,
		},
		{
			name: "layer scan with files and platforms", image: "ghcr.io/acme/node-app@" + digestA, digest: digestA, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, Layers: policy.SourceLayers, Packages: []policy.Package{
					{Type: "npm", Namespace: "@kubernetes", Name: "client-node", Version: "0.12.0", Source: "layer:npm-package",
						Platform: "linux/amd64", File: "/app/node_modules/@kubernetes/client-node/package.json"},
					{Type: "npm", Namespace: "@kubernetes", Name: "client-node", Version: "0.10.2", Source: "layer:npm-package",
						Platform: "linux/arm64", File: "/app/node_modules/@kubernetes/client-node/package.json"},
				}}
			},
			worst: policy.VerdictTooOld, reason: policy.ReasonBelowMinimum,
		},
		{
			name: "complete layer scan, nothing found", image: "ghcr.io/acme/static:1", digest: digestA, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, Layers: policy.SourceLayers}
			},
			worst: policy.VerdictOK, reason: policy.ReasonNoSDKInLayers,
		},
		{
			name: "incomplete scan", image: "ghcr.io/acme/big:3", digest: digestA, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, LayersIncomplete: "the scan stopped after 2 GiB of compressed layers"}
			},
			worst: policy.VerdictUnknown, reason: policy.ReasonNoSDKEvidence,
		},
		{
			name: "unavailable", image: "private.example.com/team/app:7", digest: digestA, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, Unavailable: "registry private.example.com timed out after 2s"}
			},
			worst: policy.VerdictUnknown, reason: policy.ReasonNoSDKEvidence,
		},
		{
			name: "labels on an add-on image pinned by digest", image: "registry.k8s.io/coredns/coredns@" + digestB, digest: digestB, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, Labels: map[string]string{
					"org.opencontainers.image.version": "1.8.3",
					"maintainer":                       "someone", // not a version label: not stored
				}}
			},
			worst: policy.VerdictTooOld, reason: policy.ReasonBelowMinimum,
		},
		{
			name: "add-on tag verified beside its digest", image: "registry.k8s.io/coredns/coredns:v1.11.1@" + digestB, digest: digestB, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, TagVerified: true}
			},
			worst: policy.VerdictOK, reason: policy.ReasonMeetsMinimum,
		},
		{
			name: "add-on tag not verified, a version label", image: "registry.k8s.io/coredns/coredns:v1.11.1@" + digestB, digest: digestB, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, TagUnverified: "the tag v1.11.1 points at " + digestA + ", not at the digest the pod names",
					Labels: map[string]string{"version": "v1.8.0"}}
			},
			worst: policy.VerdictTooOld, reason: policy.ReasonBelowMinimum,
		},
		{
			name: "add-on tag not verified, no label", image: "registry.k8s.io/coredns/coredns:v1.11.1@" + digestB, digest: digestB, token: true,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, TagUnverified: "the tag v1.11.1 does not exist in the registry, so it says nothing of the digest the pod names"}
			},
			worst: policy.VerdictUnknown, reason: policy.ReasonIncomparable,
		},
		{
			name: "AWS SDK with IRSA", image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:5", digest: digestA, token: true, aws: policy.AWSIRSA,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, SBOM: "sbom:buildkit-attestation", Packages: []policy.Package{
					{Type: "npm", Name: "aws-sdk", Version: "2.524.0", Source: "sbom:buildkit-attestation"},
					{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.29.3", Source: "sbom:buildkit-attestation"},
				}}
			},
			worst: policy.VerdictTooOld, reason: policy.ReasonBelowMinimum,
		},
		{
			name: "no token mounted", image: "ghcr.io/acme/api:1.4", digest: digestA, token: false,
			ev: func(ref policy.ImageRef) *policy.Evidence {
				return &policy.Evidence{Ref: ref, SBOM: "sbom:spdx-referrer", Packages: []policy.Package{
					{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", Source: "sbom:spdx-referrer"},
				}}
			},
			worst: policy.VerdictNotApplicable, reason: policy.ReasonNoToken,
		},
	}
}

// TestRoundTripFindings: evaluating the evidence read back from an
// ImageEvidence gives the findings the original evidence gives.
func TestRoundTripFindings(t *testing.T) {
	cat := defaultCatalog(t)
	for _, tt := range roundTripCases() {
		t.Run(tt.name, func(t *testing.T) {
			ref := mustRef(t, tt.image)
			orig := tt.ev(ref)
			pod := podFor(tt.image, tt.token, tt.aws)
			want := cat.Evaluate(pod, []*policy.Evidence{orig}, policy.Options{})
			if v := policy.Worst(want); v != tt.worst {
				t.Fatalf("the original evidence gives %s, the case expects %s: %+v", v, tt.worst, want)
			}
			if !hasReason(want, tt.reason) {
				t.Fatalf("no finding with reason %s: %+v", tt.reason, want)
			}

			ie := FromEvidence(tt.digest, orig, cat, now)
			if ie == nil {
				t.Fatal("FromEvidence returned nil")
			}
			read := storedAndRead(t, ie, ref)
			got := cat.Evaluate(pod, []*policy.Evidence{read}, policy.Options{})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("findings after the round trip differ\n got %+v\nwant %+v", got, want)
			}
			if got, want := renderAll(got), renderAll(want); got != want {
				t.Errorf("messages differ:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func hasReason(fs []policy.Finding, r policy.Reason) bool {
	for i := range fs {
		if fs[i].Reason == r {
			return true
		}
	}
	return false
}

func renderAll(fs []policy.Finding) string {
	var b strings.Builder
	for i := range fs {
		b.WriteString(fs[i].Message())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestRoundTripWithoutStatusFields proves the round trip test can fail:
// leaving out any one of the fields the evidence carries changes the
// findings of some case.
func TestRoundTripWithoutStatusFields(t *testing.T) {
	cat := defaultCatalog(t)
	drops := map[string]func(*v1alpha1.ImageEvidenceStatus){
		"packages":         func(s *v1alpha1.ImageEvidenceStatus) { s.Packages = nil },
		"labels":           func(s *v1alpha1.ImageEvidenceStatus) { s.Labels = nil },
		"sbom":             func(s *v1alpha1.ImageEvidenceStatus) { s.SBOM = "" },
		"layers":           func(s *v1alpha1.ImageEvidenceStatus) { s.Layers = "" },
		"layersIncomplete": func(s *v1alpha1.ImageEvidenceStatus) { s.LayersIncomplete = "" },
		"unavailable":      func(s *v1alpha1.ImageEvidenceStatus) { s.Unavailable = "" },
		"tags":             func(s *v1alpha1.ImageEvidenceStatus) { s.Tags = nil },
		"platform":         func(s *v1alpha1.ImageEvidenceStatus) { s.Packages = clearPackages(s.Packages, "platform") },
		"file":             func(s *v1alpha1.ImageEvidenceStatus) { s.Packages = clearPackages(s.Packages, "file") },
		"source":           func(s *v1alpha1.ImageEvidenceStatus) { s.Packages = clearPackages(s.Packages, "source") },
	}
	for field, drop := range drops {
		changed := false
		for _, tt := range roundTripCases() {
			ref := mustRef(t, tt.image)
			orig := tt.ev(ref)
			pod := podFor(tt.image, tt.token, tt.aws)
			want := cat.Evaluate(pod, []*policy.Evidence{orig}, policy.Options{})
			ie := FromEvidence(tt.digest, orig, cat, now)
			drop(&ie.Status)
			got := cat.Evaluate(pod, []*policy.Evidence{ToEvidence(ie, ref)}, policy.Options{})
			changed = changed || !reflect.DeepEqual(got, want)
		}
		if !changed {
			t.Errorf("without status.%s every case still gives its findings: the cases do not cover it", field)
		}
	}
}

func clearPackages(pkgs []v1alpha1.Package, field string) []v1alpha1.Package {
	out := make([]v1alpha1.Package, len(pkgs))
	for i, p := range pkgs {
		switch field {
		case "platform":
			p.Platform = ""
		case "file":
			p.File = ""
		case "source":
			p.Source = ""
		}
		out[i] = p
	}
	return out
}
