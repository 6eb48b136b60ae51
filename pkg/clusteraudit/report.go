package clusteraudit

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/report"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// Report is the `audit -o json` document: the check contract plus per-result
// pod counts, the stale-token join and the enforce preview.
type Report struct {
	Results       []Result          `json:"results"`
	Summary       report.Summary    `json:"summary"`
	Namespace     string            `json:"namespace,omitempty"`
	StaleTokens   *[]StaleToken     `json:"staleTokens,omitempty"`
	WouldBeDenied *[]DeniedWorkload `json:"wouldBeDenied,omitempty"`
	report        *report.Report
}

// Result is one workload of the report.
type Result struct {
	report.Result
	// Pods counts the workload's pods; EvaluatedPods are the ones whose
	// specs were judged (one per pod template).
	Pods            int      `json:"pods"`
	EvaluatedPods   []string `json:"evaluatedPods"`
	ServiceAccounts []string `json:"serviceAccounts"`
}

// DeniedWorkload is a workload enforce would deny, and the sentences of the
// findings it would be denied on.
type DeniedWorkload struct {
	Kind      string         `json:"kind"`
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Verdict   policy.Verdict `json:"verdict"`
	// Findings are the findings the denial names.
	Findings []policy.Finding `json:"findings"`
	// Messages are the findings' sentences, one each (kept for scripts
	// that read them); Message is the denial as the API server would
	// return it.
	Messages []string `json:"messages"`
	Message  string   `json:"message"`
}

// ReportOptions say what the report holds beyond the workloads.
type ReportOptions struct {
	// Namespace is the audited namespace, "" for all.
	Namespace string
	// StaleTokens, when not nil, are joined to the workloads.
	StaleTokens []staletoken.Subject
	// Preview asks what enforce would deny, under Unknown.
	Preview bool
	Unknown engine.UnknownAction
}

// BuildReport makes the report of judged workloads.
func BuildReport(ws []Workload, o ReportOptions) *Report {
	rep := &report.Report{}
	for i := range ws {
		w := &ws[i]
		rep.Results = append(rep.Results, report.Result{
			Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Verdict: w.Verdict, Findings: w.Findings,
		})
	}
	rep.Finish()
	byKey := map[string]*Workload{}
	for i := range ws {
		byKey[ws[i].Kind+"/"+ws[i].Namespace+"/"+ws[i].Name] = &ws[i]
	}
	doc := &Report{Results: []Result{}, Summary: rep.Summary, Namespace: o.Namespace, report: rep}
	for _, r := range rep.Results {
		w := byKey[r.Kind+"/"+r.Namespace+"/"+r.Name]
		doc.Results = append(doc.Results, Result{Result: r, Pods: len(w.Pods), EvaluatedPods: w.Evaluated, ServiceAccounts: w.ServiceAccounts})
	}
	if o.StaleTokens != nil {
		st := JoinStaleTokens(o.StaleTokens, ws, o.Namespace)
		doc.StaleTokens = &st
	}
	if o.Preview {
		denied := []DeniedWorkload{}
		for _, d := range WouldBeDenied(ws, o.Unknown) {
			dw := DeniedWorkload{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name, Verdict: d.Workload.Verdict,
				Findings: make([]policy.Finding, 0, len(d.Deny)), Message: policy.DenialMessage(d.Deny)}
			for _, f := range d.Deny {
				dw.Findings = append(dw.Findings, *f)
				dw.Messages = append(dw.Messages, f.Message())
			}
			denied = append(denied, dw)
		}
		doc.WouldBeDenied = &denied
	}
	return doc
}

// AtOrAbove reports whether a workload's verdict is at or above threshold,
// or the preview would deny one: audit's exit status 1.
func (doc *Report) AtOrAbove(threshold policy.Verdict) bool {
	return doc.report.AtOrAbove(threshold) || (doc.WouldBeDenied != nil && len(*doc.WouldBeDenied) > 0)
}

// WriteJSON writes the report as indented JSON.
func (doc *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// WriteText writes check's table and sentences, then the stale tokens and
// the preview; input errors go to errw.
func (doc *Report) WriteText(w, errw io.Writer) error {
	if err := report.WriteText(w, errw, doc.report); err != nil {
		return err
	}
	if doc.StaleTokens != nil {
		fmt.Fprintln(w, "\nStale tokens (from the audit logs), most urgent first:")
		if len(*doc.StaleTokens) == 0 {
			fmt.Fprintln(w, "  none")
		}
		for _, s := range *doc.StaleTokens {
			fmt.Fprintf(w, "  %s: %s, %d day%s left\n", s.Subject, s.Status, s.DaysLeft, daysPlural(s.DaysLeft))
			if len(s.Workloads) == 0 {
				fmt.Fprintf(w, "    %s\n", NoWorkloadFix)
			}
			for _, sw := range s.Workloads {
				fmt.Fprintf(w, "    %s/%s\n      now: %s\n      fix: %s\n", sw.Kind, sw.Name, sw.Restart, sw.RealFix)
			}
		}
	}
	if doc.WouldBeDenied != nil {
		scope := "every namespace were"
		if doc.Namespace != "" {
			scope = fmt.Sprintf("namespace %q were", doc.Namespace)
		}
		fmt.Fprintf(w, "\nPreview: if %s in enforce mode:\n", scope)
		if len(*doc.WouldBeDenied) == 0 {
			fmt.Fprintln(w, "  nothing would be denied")
		}
		for _, d := range *doc.WouldBeDenied {
			fmt.Fprintf(w, "  would be denied: %s/%s -n %s: %s\n", d.Kind, d.Name, d.Namespace, d.Message)
		}
	}
	return nil
}

func daysPlural(n int64) string {
	if n == 1 || n == -1 {
		return ""
	}
	return "s"
}
