package reports

import (
	"fmt"
	"sort"
	"strconv"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// What every report and result says of its origin.
const (
	// Source is the report's (and each result's) source.
	Source = "tokenguard"
	// Policy is each result's policy.
	Policy = "tokenguard"
	// ManagedBy is the app.kubernetes.io/managed-by label's value.
	ManagedBy = "tokenguard"
)

// Rules that are not a catalog rule id.
const (
	// RuleClientSDKEvidence is the rule of the findings about whether an
	// application image holds a catalogued client SDK at all (their
	// Component is policy.ComponentNoSDKEvidence, "").
	RuleClientSDKEvidence = "client-sdk-evidence"
	// RuleStaleToken is the rule of the results for a service account the
	// audit logs show using a stale token.
	RuleStaleToken = "stale-token"
)

// Categories of results.
const (
	CategoryTokens         = "service-account-tokens"
	CategoryAWSCredentials = "aws-credentials"
)

// Results and severities (the API module names the values in enum
// markers only).
const (
	ResultPass openreportsv1alpha1.Result = "pass"
	ResultFail openreportsv1alpha1.Result = "fail"
	ResultWarn openreportsv1alpha1.Result = "warn"
	ResultSkip openreportsv1alpha1.Result = "skip"

	SeverityHigh   openreportsv1alpha1.ResultSeverity = "high"
	SeverityMedium openreportsv1alpha1.ResultSeverity = "medium"
	SeverityLow    openreportsv1alpha1.ResultSeverity = "low"
	SeverityInfo   openreportsv1alpha1.ResultSeverity = "info"
)

// Labels and annotations on a report.
const (
	LabelManagedBy    = "app.kubernetes.io/managed-by"
	LabelWorkloadKind = "tokenguard.io/workload-kind"
	LabelWorkloadName = "tokenguard.io/workload-name"
	// AnnotationContentHash carries ContentHash of the report.
	AnnotationContentHash = "tokenguard.io/content-hash"
)

// Build returns the Report for one workload: one result per finding that is
// not not-applicable and one per stale-token observation, sorted; the
// summary counted from them; named by Name, labelled with the workload's
// kind and name, owned by the workload and stamped with its ContentHash.
func Build(in Input) *openreportsv1alpha1.Report {
	ref := corev1.ObjectReference{
		APIVersion: in.APIVersion, Kind: in.Kind, Namespace: in.Namespace, Name: in.Name, UID: in.UID,
	}
	ts := metav1.Timestamp{}
	if !in.Time.IsZero() {
		ts = metav1.Timestamp{Seconds: in.Time.Unix(), Nanos: int32(in.Time.Nanosecond())}
	}
	results := make([]openreportsv1alpha1.ReportResult, 0, len(in.Findings)+len(in.StaleTokens))
	for i := range in.Findings {
		if r, ok := findingResult(&in.Findings[i], ref, ts); ok {
			results = append(results, r)
		}
	}
	for _, st := range in.StaleTokens {
		results = append(results, staleTokenResult(st, in.Restart, ref, ts))
	}
	sortResults(results)

	r := &openreportsv1alpha1.Report{
		TypeMeta: metav1.TypeMeta{APIVersion: openreportsv1alpha1.GroupVersion.String(), Kind: "Report"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      Name(in.Kind, in.Name),
			Namespace: in.Namespace,
			Labels: map[string]string{
				LabelManagedBy:    ManagedBy,
				LabelWorkloadKind: LabelValue(in.Kind),
				LabelWorkloadName: LabelValue(in.Name),
			},
		},
		Source:  Source,
		Scope:   &ref,
		Summary: summarize(results),
		Results: results,
	}
	if in.UID != "" {
		no := false
		r.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: in.APIVersion, Kind: in.Kind, Name: in.Name, UID: in.UID,
			Controller: &no, BlockOwnerDeletion: &no,
		}}
	}
	r.Annotations = map[string]string{AnnotationContentHash: ContentHash(r)}
	return r
}

// Outcome maps a finding to its result and severity: skip/info when
// exempt, fail/high when too old, warn/medium when unknown or too old
// against an advisory minimum (policy.Finding.Weight), pass/info when ok.
// ok is false for a not-applicable finding (or a verdict policy does not
// define), which gets no result.
func Outcome(f *policy.Finding) (result openreportsv1alpha1.Result, severity openreportsv1alpha1.ResultSeverity, ok bool) {
	if f.Verdict == policy.VerdictNotApplicable {
		return "", "", false
	}
	if f.Exempt != "" {
		return ResultSkip, SeverityInfo, true
	}
	switch f.Weight() {
	case policy.VerdictTooOld:
		return ResultFail, SeverityHigh, true
	case policy.VerdictUnknown:
		return ResultWarn, SeverityMedium, true
	case policy.VerdictOK:
		return ResultPass, SeverityInfo, true
	}
	return "", "", false
}

// Rule is a finding's rule: its catalog rule id (Component), or
// RuleClientSDKEvidence for the findings with none.
func Rule(f *policy.Finding) string {
	if f.Component == policy.ComponentNoSDKEvidence {
		return RuleClientSDKEvidence
	}
	return f.Component
}

func findingResult(f *policy.Finding, ref corev1.ObjectReference, ts metav1.Timestamp) (openreportsv1alpha1.ReportResult, bool) {
	result, severity, ok := Outcome(f)
	if !ok {
		return openreportsv1alpha1.ReportResult{}, false
	}
	category := CategoryTokens
	if f.Kind == policy.KindAWSSDK {
		category = CategoryAWSCredentials
	}
	props := map[string]string{}
	for _, p := range [...]struct{ k, v string }{
		{"container", f.Container}, {"image", f.Image}, {"platform", f.Platform},
		{"component", f.Component}, {"version", f.Version}, {"minimum", f.Minimum},
		{"source", f.Source}, {"file", f.File}, {"volume", f.Volume}, {"reason", string(f.Reason)},
		{"credentials", f.Credentials}, {"advisory", f.Advisory}, {"exempt", f.Exempt},
	} {
		if p.v != "" {
			props[p.k] = p.v
		}
	}
	return openreportsv1alpha1.ReportResult{
		Source:      Source,
		Policy:      Policy,
		Rule:        Rule(f),
		Category:    category,
		Severity:    severity,
		Timestamp:   ts,
		Result:      result,
		Subjects:    []corev1.ObjectReference{ref},
		Description: f.Message(),
		Properties:  props,
	}, true
}

// staleTokenResult is the result for a service account whose token is
// stale: fail/high once rejected, warn/medium when expiring, warn/low
// while time is left.
func staleTokenResult(st StaleToken, restart string, ref corev1.ObjectReference, ts metav1.Timestamp) openreportsv1alpha1.ReportResult {
	result, severity := ResultWarn, SeverityLow
	switch st.Status {
	case staletoken.StatusRejected:
		result, severity = ResultFail, SeverityHigh
	case staletoken.StatusExpiring:
		severity = SeverityMedium
	}
	who := strconv.Quote(st.Subject)
	subjects := []corev1.ObjectReference{ref}
	if ns, sa, ok := staletoken.SplitSubject(st.Subject); ok {
		who = "service account " + strconv.Quote(ns+"/"+sa)
		subjects = append(subjects, corev1.ObjectReference{APIVersion: "v1", Kind: "ServiceAccount", Namespace: ns, Name: sa})
	}
	var msg string
	if st.Status == staletoken.StatusRejected {
		msg = fmt.Sprintf("%s uses a token past the age Amazon EKS accepts (%d %s left): its requests are rejected", who, st.DaysLeft, days(st.DaysLeft))
	} else {
		msg = fmt.Sprintf("%s uses a stale token: %d %s left before Amazon EKS rejects it", who, st.DaysLeft, days(st.DaysLeft))
	}
	if restart != "" {
		msg += "; fresh tokens now: " + restart
	}
	msg += "; the lasting fix is a client that re-reads its token"
	props := map[string]string{
		"subject":  st.Subject,
		"status":   string(st.Status),
		"daysLeft": strconv.FormatInt(st.DaysLeft, 10),
	}
	if restart != "" {
		props["restart"] = restart
	}
	return openreportsv1alpha1.ReportResult{
		Source:      Source,
		Policy:      Policy,
		Rule:        RuleStaleToken,
		Category:    CategoryTokens,
		Severity:    severity,
		Timestamp:   ts,
		Result:      result,
		Subjects:    subjects,
		Description: msg,
		Properties:  props,
	}
}

func days(n int64) string {
	if n == 1 || n == -1 {
		return "day"
	}
	return "days"
}

// sortResults orders results by rule, then container, image, platform and
// subject, then message, result and properties: the same findings in any order give
// the same report.
func sortResults(rs []openreportsv1alpha1.ReportResult) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		for _, k := range [...]string{"container", "image", "platform", "subject"} {
			if a.Properties[k] != b.Properties[k] {
				return a.Properties[k] < b.Properties[k]
			}
		}
		if a.Description != b.Description {
			return a.Description < b.Description
		}
		if a.Result != b.Result {
			return a.Result < b.Result
		}
		return fmt.Sprint(a.Properties) < fmt.Sprint(b.Properties) // fmt sorts map keys
	})
}

func summarize(rs []openreportsv1alpha1.ReportResult) openreportsv1alpha1.ReportSummary {
	var s openreportsv1alpha1.ReportSummary
	for i := range rs {
		switch rs[i].Result {
		case ResultPass:
			s.Pass++
		case ResultFail:
			s.Fail++
		case ResultWarn:
			s.Warn++
		case ResultSkip:
			s.Skip++
		case "error":
			s.Error++
		}
	}
	return s
}
