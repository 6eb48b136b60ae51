package reports

import (
	"encoding/json"
	"testing"
	"time"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

func TestContentHashIgnores(t *testing.T) {
	base := Build(input())
	for _, tc := range []struct {
		name string
		edit func(*openreportsv1alpha1.Report)
	}{
		{name: "a later judgement", edit: func(r *openreportsv1alpha1.Report) {
			in := input()
			in.Time = judged.Add(36 * time.Hour)
			*r = *Build(in)
		}},
		{name: "fields the API server fills", edit: func(r *openreportsv1alpha1.Report) {
			r.UID = "5f1c-uid"
			r.ResourceVersion = "12345"
			r.Generation = 3
			r.CreationTimestamp = metav1.NewTime(judged)
			r.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "tokenguard", Operation: metav1.ManagedFieldsOperationUpdate}}
		}},
		{name: "the hash annotation", edit: func(r *openreportsv1alpha1.Report) {
			r.Annotations[AnnotationContentHash] = "sha256:stale"
		}},
		{name: "a JSON round trip", edit: func(r *openreportsv1alpha1.Report) {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			*r = openreportsv1alpha1.Report{}
			if err := json.Unmarshal(b, r); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base.DeepCopy()
			tc.edit(r)
			if !Equal(base, r) || ContentHash(r) != base.Annotations[AnnotationContentHash] {
				t.Errorf("content hash changed: %s, want %s", ContentHash(r), ContentHash(base))
			}
		})
	}
}

func TestContentHashChanges(t *testing.T) {
	base := Build(input())
	for _, tc := range []struct {
		name string
		edit func(*Input)
	}{
		{name: "a version", edit: func(in *Input) { in.Findings[0].Version = "v0.15.7" }},
		{name: "a verdict", edit: func(in *Input) {
			in.Findings[0].Verdict, in.Findings[0].Reason = policy.VerdictOK, policy.ReasonMeetsMinimum
		}},
		{name: "an exemption", edit: func(in *Input) { in.Findings[0].Exempt = "image" }},
		{name: "a finding gone", edit: func(in *Input) { in.Findings = in.Findings[1:] }},
		{name: "days left", edit: func(in *Input) { in.StaleTokens[0].DaysLeft-- }},
		{name: "a stale token's status", edit: func(in *Input) { in.StaleTokens[0].Status = staletoken.StatusRejected }},
		{name: "no stale token", edit: func(in *Input) { in.StaleTokens = nil }},
		{name: "the restart command", edit: func(in *Input) { in.Restart = "kubectl rollout restart deployment/api2 -n shop" }},
		{name: "the workload's UID (recreated)", edit: func(in *Input) { in.UID = "another-uid" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input()
			in.Findings = append([]policy.Finding(nil), in.Findings...)
			in.StaleTokens = append([]StaleToken(nil), in.StaleTokens...)
			tc.edit(&in)
			if r := Build(in); Equal(base, r) || r.Annotations[AnnotationContentHash] == base.Annotations[AnnotationContentHash] {
				t.Errorf("content hash unchanged: %s", ContentHash(r))
			}
		})
	}
	// A hand edit on the server shows in the hash of what is read back
	// (unlike the annotation), so the controller can restore the report.
	r := base.DeepCopy()
	r.Results[0].Result = ResultPass
	if Equal(base, r) {
		t.Error("an edited result leaves the hash unchanged")
	}
}
