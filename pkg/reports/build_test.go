package reports

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

var judged = time.Date(2026, 3, 4, 5, 6, 7, 800, time.UTC)

// Findings of every kind, verdict and qualifier (n/a, exempt, advisory,
// the component-less no-SDK finding), as policy.Evaluate makes them.
var (
	tooOld = policy.Finding{Container: "app", Image: "ghcr.io/acme/api:1", Platform: "linux/amd64",
		Component: "k8s.io/client-go", Kind: policy.KindSDK, Version: "v0.14.0", Minimum: "v0.15.7",
		Source: "sbom:spdx-referrer", File: "/app/server", Verdict: policy.VerdictTooOld,
		Reason: policy.ReasonBelowMinimum, Fix: "upgrade k8s.io/client-go to v0.15.7 or later"}
	noSDK = policy.Finding{Container: "sidecar", Image: "ghcr.io/acme/proxy:2", Component: policy.ComponentNoSDKEvidence,
		Kind: policy.KindSDK, Source: policy.SourceNone, Verdict: policy.VerdictUnknown, Reason: policy.ReasonNoSDKEvidence,
		Detail: "no SBOM, no labels", Fix: "attach an SBOM"}
	noSDKInSBOM = policy.Finding{Container: "web", Image: "nginx:1.27", Component: policy.ComponentNoSDKEvidence,
		Kind: policy.KindSDK, Source: "sbom:spdx-referrer", Verdict: policy.VerdictOK, Reason: policy.ReasonNoSDKInSBOM}
	addonOK = policy.Finding{Container: "coredns", Image: "registry.k8s.io/coredns/coredns:v1.11.1", Component: "coredns",
		Kind: policy.KindAddon, Version: "1.11.1", Minimum: "1.8.4", Source: policy.SourceTag, Verdict: policy.VerdictOK,
		Reason: policy.ReasonMeetsMinimum}
	notApplicable = policy.Finding{Container: "batch", Image: "busybox", Component: policy.ComponentNoSDKEvidence,
		Kind: policy.KindSDK, Source: policy.SourcePodSpec, Verdict: policy.VerdictNotApplicable, Reason: policy.ReasonNoToken}
	exempt = policy.Finding{Container: "legacy", Image: "ghcr.io/acme/old:1", Component: "k8s.io/client-go",
		Kind: policy.KindSDK, Version: "v0.10.0", Minimum: "v0.15.7", Source: policy.SourceTag, Verdict: policy.VerdictTooOld,
		Reason: policy.ReasonBelowMinimum, Fix: "upgrade k8s.io/client-go to v0.15.7 or later",
		Exempt: "namespace \"legacy\" is exempt"}
	awsAdvisory = policy.Finding{Container: "app", Image: "ghcr.io/acme/api:1", Component: "aws-sdk-java#pod-identity",
		Kind: policy.KindAWSSDK, Version: "1.12.0", Minimum: "1.12.746", Source: "sbom:spdx-referrer",
		Verdict: policy.VerdictTooOld, Reason: policy.ReasonBelowMinimum, Credentials: "pod-identity",
		Advisory: "the minimum is the release that added the mechanism", Fix: "upgrade aws-sdk-java to 1.12.746 or later"}
	tokenTooOld = policy.Finding{Container: "app", Image: "ghcr.io/acme/api:1", Component: policy.ComponentTokenExpiration,
		Kind: policy.KindToken, Source: policy.SourcePodSpec, Verdict: policy.VerdictTooOld,
		Reason: policy.ReasonTokenExpiration, Volume: "token", ExpirationSeconds: 31536000, Fix: "lower expirationSeconds"}
)

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        policy.Finding
		result   openreportsv1alpha1.Result
		severity openreportsv1alpha1.ResultSeverity
		omitted  bool
	}{
		{name: "too-old fails", f: tooOld, result: "fail", severity: "high"},
		{name: "too-old token spec fails", f: tokenTooOld, result: "fail", severity: "high"},
		{name: "unknown warns", f: noSDK, result: "warn", severity: "medium"},
		{name: "too-old advisory warns", f: awsAdvisory, result: "warn", severity: "medium"},
		{name: "ok passes", f: addonOK, result: "pass", severity: "info"},
		{name: "no SDK in SBOM passes", f: noSDKInSBOM, result: "pass", severity: "info"},
		{name: "exempt too-old skips", f: exempt, result: "skip", severity: "info"},
		{name: "exempt unknown skips", f: with(noSDK, func(f *policy.Finding) { f.Exempt = "image" }), result: "skip", severity: "info"},
		{name: "not-applicable has no result", f: notApplicable, omitted: true},
		{name: "exempt not-applicable has no result", f: with(notApplicable, func(f *policy.Finding) { f.Exempt = "image" }), omitted: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, s, ok := Outcome(&tc.f)
			if ok == tc.omitted || r != tc.result || s != tc.severity {
				t.Errorf("Outcome = %q, %q, %v; want %q, %q, %v", r, s, ok, tc.result, tc.severity, !tc.omitted)
			}
		})
	}
}

// TestOutcomeAgreesWithWeight: every verdict and qualifier a finding can
// have maps to the result its policy.Finding.Weight implies; no verdict is
// left without a mapping.
func TestOutcomeAgreesWithWeight(t *testing.T) {
	want := map[policy.Verdict]openreportsv1alpha1.Result{
		policy.VerdictTooOld: ResultFail, policy.VerdictUnknown: ResultWarn, policy.VerdictOK: ResultPass,
	}
	for _, v := range []policy.Verdict{policy.VerdictOK, policy.VerdictTooOld, policy.VerdictUnknown, policy.VerdictNotApplicable} {
		for _, advisory := range []string{"", "uncertain"} {
			for _, ex := range []string{"", "exempt"} {
				f := policy.Finding{Verdict: v, Advisory: advisory, Exempt: ex, Kind: policy.KindAWSSDK}
				r, _, ok := Outcome(&f)
				switch {
				case v == policy.VerdictNotApplicable:
					if ok {
						t.Errorf("%+v: a not-applicable finding got result %q", f, r)
					}
				case ex != "":
					if r != ResultSkip {
						t.Errorf("%+v: %q, want skip", f, r)
					}
				case r != want[f.Weight()]:
					t.Errorf("%+v: %q, want %q", f, r, want[f.Weight()])
				}
			}
		}
	}
}

func with(f policy.Finding, edit func(*policy.Finding)) policy.Finding {
	edit(&f)
	return f
}

func input() Input {
	return Input{
		APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "api", UID: types.UID("0b5e4b4c-uid"),
		Findings: []policy.Finding{tooOld, noSDK, noSDKInSBOM, addonOK, notApplicable, exempt, awsAdvisory, tokenTooOld},
		StaleTokens: []StaleToken{
			{Subject: "system:serviceaccount:shop:api", Status: staletoken.StatusExpiring, DaysLeft: 5},
		},
		Restart: "kubectl rollout restart deployment/api -n shop",
		Time:    judged,
	}
}

func resultOf(t *testing.T, r *openreportsv1alpha1.Report, rule, container string) openreportsv1alpha1.ReportResult {
	t.Helper()
	for _, res := range r.Results {
		if res.Rule == rule && res.Properties["container"] == container {
			return res
		}
	}
	t.Fatalf("no result for rule %q, container %q in %+v", rule, container, r.Results)
	return openreportsv1alpha1.ReportResult{}
}

func TestBuild(t *testing.T) {
	in := input()
	r := Build(in)

	if r.APIVersion != "openreports.io/v1alpha1" || r.Kind != "Report" {
		t.Errorf("type %s %s", r.APIVersion, r.Kind)
	}
	if r.Name != "tokenguard-deployment-api" || r.Namespace != "shop" {
		t.Errorf("name %s/%s", r.Namespace, r.Name)
	}
	wantLabels := map[string]string{LabelManagedBy: "tokenguard", LabelWorkloadKind: "Deployment", LabelWorkloadName: "api"}
	if !reflect.DeepEqual(r.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", r.Labels, wantLabels)
	}
	if r.Source != "tokenguard" {
		t.Errorf("source %q", r.Source)
	}
	ref := corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "api", UID: "0b5e4b4c-uid"}
	if r.Scope == nil || *r.Scope != ref {
		t.Errorf("scope %+v, want %+v", r.Scope, ref)
	}
	if len(r.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences %+v", r.OwnerReferences)
	}
	o := r.OwnerReferences[0]
	if o.APIVersion != "apps/v1" || o.Kind != "Deployment" || o.Name != "api" || o.UID != "0b5e4b4c-uid" ||
		o.Controller == nil || *o.Controller || o.BlockOwnerDeletion == nil || *o.BlockOwnerDeletion {
		t.Errorf("ownerReference %+v: want the workload, controller and blockOwnerDeletion false", o)
	}
	if got := r.Annotations[AnnotationContentHash]; got != ContentHash(r) || !strings.HasPrefix(got, "sha256:") {
		t.Errorf("content-hash annotation %q, want %q", got, ContentHash(r))
	}

	// 8 findings, one not applicable; one stale token.
	if len(r.Results) != 8 {
		t.Fatalf("%d results, want 8: %+v", len(r.Results), r.Results)
	}
	want := openreportsv1alpha1.ReportSummary{Pass: 2, Fail: 2, Warn: 3, Skip: 1}
	if r.Summary != want {
		t.Errorf("summary %+v, want %+v", r.Summary, want)
	}
	for _, res := range r.Results {
		if res.Policy != "tokenguard" || res.Source != "tokenguard" {
			t.Errorf("%s: policy %q source %q", res.Rule, res.Policy, res.Source)
		}
		if res.Timestamp.Seconds != judged.Unix() || res.Timestamp.Nanos != 800 {
			t.Errorf("%s: timestamp %+v, want %v", res.Rule, res.Timestamp, judged)
		}
		if len(res.Subjects) == 0 || res.Subjects[0] != ref {
			t.Errorf("%s: subjects %+v, want the workload first", res.Rule, res.Subjects)
		}
		if res.Properties["container"] == "batch" {
			t.Errorf("the not-applicable finding got a result: %+v", res)
		}
	}

	// A too-old finding: every property it has, the message rendered by
	// policy, the token category.
	res := resultOf(t, r, "k8s.io/client-go", "app")
	wantProps := map[string]string{
		"container": "app", "image": "ghcr.io/acme/api:1", "platform": "linux/amd64", "component": "k8s.io/client-go",
		"version": "v0.14.0", "minimum": "v0.15.7", "source": "sbom:spdx-referrer", "file": "/app/server",
		"reason": "below-minimum",
	}
	if !reflect.DeepEqual(res.Properties, wantProps) {
		t.Errorf("properties %v, want %v", res.Properties, wantProps)
	}
	if res.Result != "fail" || res.Severity != "high" || res.Category != CategoryTokens || res.Description != tooOld.Message() {
		t.Errorf("too-old result %+v", res)
	}

	// The component-less no-SDK finding: a stable rule, no empty component.
	res = resultOf(t, r, RuleClientSDKEvidence, "sidecar")
	if _, ok := res.Properties["component"]; ok || res.Result != "warn" || res.Properties["reason"] != "no-sdk-evidence" {
		t.Errorf("no-SDK result %+v", res)
	}
	if res := resultOf(t, r, RuleClientSDKEvidence, "web"); res.Result != "pass" {
		t.Errorf("no SDK in the SBOM: %+v", res)
	}

	// Exempt: skip, and why.
	res = resultOf(t, r, "k8s.io/client-go", "legacy")
	if res.Result != "skip" || res.Severity != "info" || res.Properties["exempt"] != exempt.Exempt {
		t.Errorf("exempt result %+v", res)
	}

	// Advisory AWS SDK finding: warn, the AWS category, its credentials
	// and why the minimum is uncertain.
	res = resultOf(t, r, "aws-sdk-java#pod-identity", "app")
	if res.Result != "warn" || res.Severity != "medium" || res.Category != CategoryAWSCredentials ||
		res.Properties["credentials"] != "pod-identity" || res.Properties["advisory"] != awsAdvisory.Advisory {
		t.Errorf("advisory AWS result %+v", res)
	}

	// The token spec finding names its volume.
	res = resultOf(t, r, policy.ComponentTokenExpiration, "app")
	if res.Result != "fail" || res.Properties["volume"] != "token" || res.Properties["version"] != "" {
		t.Errorf("token result %+v", res)
	}
}

func TestStaleTokenResults(t *testing.T) {
	const restart = "kubectl rollout restart deployment/api -n shop"
	for _, tc := range []struct {
		name     string
		st       StaleToken
		restart  string
		result   openreportsv1alpha1.Result
		severity openreportsv1alpha1.ResultSeverity
		daysLeft string
		says     []string
	}{
		{name: "rejected fails", st: StaleToken{Subject: "system:serviceaccount:shop:api", Status: staletoken.StatusRejected, DaysLeft: -3},
			restart: restart, result: "fail", severity: "high", daysLeft: "-3", says: []string{`service account "shop/api"`, "-3 days left", "rejected", restart}},
		{name: "expiring warns", st: StaleToken{Subject: "system:serviceaccount:shop:api", Status: staletoken.StatusExpiring, DaysLeft: 1},
			restart: restart, result: "warn", severity: "medium", daysLeft: "1", says: []string{"1 day left before Amazon EKS rejects", restart}},
		{name: "stale warns low", st: StaleToken{Subject: "system:serviceaccount:shop:api", Status: staletoken.StatusStale, DaysLeft: 40},
			result: "warn", severity: "low", daysLeft: "40", says: []string{"40 days left"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input()
			in.Findings, in.StaleTokens, in.Restart = nil, []StaleToken{tc.st}, tc.restart
			r := Build(in)
			if len(r.Results) != 1 {
				t.Fatalf("results %+v", r.Results)
			}
			res := r.Results[0]
			if res.Rule != RuleStaleToken || res.Result != tc.result || res.Severity != tc.severity || res.Category != CategoryTokens {
				t.Errorf("result %+v", res)
			}
			for _, s := range tc.says {
				if !strings.Contains(res.Description, s) {
					t.Errorf("message %q does not say %q", res.Description, s)
				}
			}
			if tc.restart == "" && strings.Contains(res.Description, "fresh tokens now") {
				t.Errorf("message %q names a restart that was not given", res.Description)
			}
			want := map[string]string{"subject": tc.st.Subject, "status": string(tc.st.Status), "daysLeft": tc.daysLeft}
			if tc.restart != "" {
				want["restart"] = tc.restart
			}
			if !reflect.DeepEqual(res.Properties, want) {
				t.Errorf("properties %v, want %v", res.Properties, want)
			}
			sa := corev1.ObjectReference{APIVersion: "v1", Kind: "ServiceAccount", Namespace: "shop", Name: "api"}
			if len(res.Subjects) != 2 || res.Subjects[0].Kind != "Deployment" || res.Subjects[1] != sa {
				t.Errorf("subjects %+v, want the workload and its service account", res.Subjects)
			}
		})
	}
}

func TestStaleTokenOf(t *testing.T) {
	s := staletoken.Subject{Subject: "system:serviceaccount:a:b", Namespace: "a", ServiceAccount: "b",
		Status: staletoken.StatusRejected, Events: 9, DaysLeft: -2, LastSeen: judged}
	if got, want := StaleTokenOf(&s), (StaleToken{Subject: s.Subject, Status: s.Status, DaysLeft: -2}); got != want {
		t.Errorf("StaleTokenOf = %+v, want %+v", got, want)
	}
}

func TestNoUIDNoOwner(t *testing.T) {
	in := input()
	in.UID = ""
	if r := Build(in); len(r.OwnerReferences) != 0 {
		t.Errorf("ownerReferences without a UID: %+v", r.OwnerReferences)
	}
}

func TestNoFindings(t *testing.T) {
	in := input()
	in.Findings, in.StaleTokens = []policy.Finding{notApplicable}, nil
	r := Build(in)
	if len(r.Results) != 0 || r.Summary != (openreportsv1alpha1.ReportSummary{}) {
		t.Errorf("only a not-applicable finding: %+v %+v", r.Results, r.Summary)
	}
}

// TestDeterministic: findings and stale tokens in any order give the same
// report, results in a fixed order.
func TestDeterministic(t *testing.T) {
	in := input()
	in.StaleTokens = append(in.StaleTokens, StaleToken{Subject: "system:serviceaccount:shop:batch", Status: staletoken.StatusRejected, DaysLeft: -1})
	want := Build(in)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		s := in
		s.Findings = append([]policy.Finding(nil), in.Findings...)
		s.StaleTokens = append([]StaleToken(nil), in.StaleTokens...)
		rng.Shuffle(len(s.Findings), func(i, j int) { s.Findings[i], s.Findings[j] = s.Findings[j], s.Findings[i] })
		rng.Shuffle(len(s.StaleTokens), func(i, j int) { s.StaleTokens[i], s.StaleTokens[j] = s.StaleTokens[j], s.StaleTokens[i] })
		if got := Build(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d: report differs:\n%+v\nwant\n%+v", i, got.Results, want.Results)
		}
	}
	var order []string
	for _, r := range want.Results {
		order = append(order, r.Rule+" "+r.Properties["container"]+r.Properties["subject"])
	}
	wantOrder := []string{
		"aws-sdk-java#pod-identity app",
		"client-sdk-evidence sidecar",
		"client-sdk-evidence web",
		"coredns coredns",
		"k8s.io/client-go app",
		"k8s.io/client-go legacy",
		"projected-token-expiration app",
		"stale-token system:serviceaccount:shop:api",
		"stale-token system:serviceaccount:shop:batch",
	}
	if !reflect.DeepEqual(order, wantOrder) {
		t.Errorf("order\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(wantOrder, "\n"))
	}
}
