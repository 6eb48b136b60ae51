package clusteraudit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

func auditFixture() []Workload {
	old := policy.Finding{Container: "coredns", Image: "eks/coredns:v1.8.3-eksbuild.1", Component: "coredns", Kind: policy.KindAddon,
		Version: "v1.8.3-eksbuild.1", Minimum: "1.8.4", Source: policy.SourceTag, Verdict: policy.VerdictTooOld,
		Reason: policy.ReasonBelowMinimum, Fix: "update CoreDNS"}
	unk := policy.Finding{Container: "app", Image: "ghcr.io/acme/app:1", Kind: policy.KindSDK, Source: "none", Verdict: policy.VerdictUnknown,
		Reason: policy.ReasonNoSDKEvidence, Detail: "no SBOM or labels were read", Fix: "attach an SBOM"}
	return []Workload{
		{Kind: "Deployment", Namespace: "ns", Name: "dns", Pods: []string{"dns-a", "dns-b"}, Evaluated: []string{"dns-a"},
			ServiceAccounts: []string{"default"}, Findings: []policy.Finding{old}, Verdict: policy.VerdictTooOld},
		{Kind: "Pod", Namespace: "ns", Name: "app", Pods: []string{"app"}, Evaluated: []string{"app"},
			ServiceAccounts: []string{"default"}, Findings: []policy.Finding{unk}, Verdict: policy.VerdictUnknown},
	}
}

func TestAuditOutput(t *testing.T) {
	ws := auditFixture()
	subjects := []staletoken.Subject{{Subject: "system:serviceaccount:ns:default", Namespace: "ns", ServiceAccount: "default", Status: staletoken.StatusExpiring, DaysLeft: 3}}
	doc := BuildReport(ws, ReportOptions{Namespace: "ns", StaleTokens: subjects, Preview: true, Unknown: config.UnknownAllow})

	var out, errb bytes.Buffer
	if err := doc.WriteText(&out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ns         Deployment/dns",
		"system:serviceaccount:ns:default: expiring, 3 days left",
		"now: kubectl rollout restart deployment/dns -n ns",
		"fix: upgrade coredns v1.8.3-eksbuild.1 to 1.8.4 or later",
		"now: delete and recreate pod app -n ns",
		"fix: " + NoTooOldFix,
		`Preview: if namespace "ns" were in enforce mode:`,
		`would be denied: Deployment/dns -n ns: violates tokenguard "token-refresh"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "would be denied: Pod/app") {
		t.Errorf("unknown denied without --unknown deny:\n%s", out.String())
	}
	denyUnknown := BuildReport(ws, ReportOptions{Namespace: "ns", Preview: true, Unknown: config.UnknownDeny})
	if d := *denyUnknown.WouldBeDenied; len(d) != 2 || d[1].Name != "app" || len(d[1].Findings) != 1 || d[1].Findings[0].Reason != policy.ReasonNoSDKEvidence {
		t.Errorf("with unknown: deny = %+v", d)
	}
	if !doc.AtOrAbove(policy.VerdictTooOld) {
		t.Error("a too-old workload is not at or above too-old")
	}

	out.Reset()
	if err := doc.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var rep struct { // the check contract
		Results []struct {
			Kind     string
			Verdict  policy.Verdict
			Findings []struct{ Reason, Message string }
		}
		Summary struct{ TooOld int }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Results[0].Kind != "Deployment" || rep.Results[0].Verdict != policy.VerdictTooOld || rep.Summary.TooOld != 1 {
		t.Errorf("results = %+v", rep.Results)
	}
	if f := rep.Results[0].Findings[0]; f.Reason != string(policy.ReasonBelowMinimum) || f.Message != ws[0].Findings[0].Message() {
		t.Errorf("finding JSON %+v: the reason and the rendered message", f)
	}
	var extra struct {
		Results []struct {
			Pods          int      `json:"pods"`
			EvaluatedPods []string `json:"evaluatedPods"`
		} `json:"results"`
		StaleTokens []struct {
			Subject   string `json:"subject"`
			Status    string `json:"status"`
			DaysLeft  int    `json:"daysLeft"`
			RealFix   string `json:"realFix"`
			Workloads []struct {
				Kind, Namespace, Name, Restart string
			} `json:"workloads"`
		} `json:"staleTokens"`
		WouldBeDenied []struct {
			Kind, Name, Message string
			Messages            []string
		} `json:"wouldBeDenied"`
	}
	if err := json.Unmarshal(out.Bytes(), &extra); err != nil {
		t.Fatal(err)
	}
	if extra.Results[0].Pods != 2 || extra.Results[0].EvaluatedPods[0] != "dns-a" {
		t.Errorf("pods = %+v", extra.Results)
	}
	if len(extra.StaleTokens) != 1 || extra.StaleTokens[0].Status != "expiring" || extra.StaleTokens[0].DaysLeft != 3 ||
		len(extra.StaleTokens[0].Workloads) != 2 || extra.StaleTokens[0].Workloads[0].Restart != "kubectl rollout restart deployment/dns -n ns" {
		t.Errorf("staleTokens = %+v", extra.StaleTokens)
	}
	if len(extra.WouldBeDenied) != 1 || extra.WouldBeDenied[0].Name != "dns" || len(extra.WouldBeDenied[0].Messages) != 1 ||
		extra.WouldBeDenied[0].Message != policy.DenialMessage([]*policy.Finding{&ws[0].Findings[0]}) {
		t.Errorf("wouldBeDenied = %+v", extra.WouldBeDenied)
	}
}
