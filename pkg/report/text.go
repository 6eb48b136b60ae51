package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// WriteText writes a table of every finding, then the sentences for what
// must be fixed, then a summary line. Input errors go to errw.
func WriteText(w, errw io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	manifests := false
	for i := range r.Results {
		manifests = manifests || r.Results[i].Source != ""
	}
	header := "NAMESPACE\tWORKLOAD\tCONTAINER\tCOMPONENT\tVERSION\tMINIMUM\tVERDICT\tSOURCE"
	if manifests {
		header += "\tMANIFEST"
	}
	fmt.Fprintln(tw, header)
	for i := range r.Results {
		res := &r.Results[i]
		for j := range res.Findings {
			f := &res.Findings[j]
			fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\t%s",
				dash(res.Namespace), res.Kind, res.Name, dash(f.Container), dash(component(f)),
				dash(f.Version), dash(f.Minimum), verdictText(f), f.Source)
			if manifests {
				fmt.Fprintf(tw, "\t%s", manifest(res))
			}
			fmt.Fprintln(tw)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, want := range []policy.Verdict{policy.VerdictTooOld, policy.VerdictUnknown} {
		header := false
		for i := range r.Results {
			res := &r.Results[i]
			for j := range res.Findings {
				f := &res.Findings[j]
				if f.Verdict != want || f.Exempt != "" {
					continue
				}
				if !header {
					fmt.Fprintf(w, "\n%s:\n", sectionTitle(want))
					header = true
				}
				fmt.Fprintf(w, "  %s %s/%s: %s\n", nsPrefix(res.Namespace), res.Kind, res.Name, f.Message())
			}
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(errw, "error: %s\n", e.Message)
	}
	fmt.Fprintf(w, "\n%s\n", summaryLine(r))
	return nil
}

func sectionTitle(v policy.Verdict) string {
	if v == policy.VerdictTooOld {
		return "Too old (these would be denied in an enforce namespace)"
	}
	return "Unknown (allowed unless the configuration says unknown: warn|deny)"
}

func verdictText(f *policy.Finding) string {
	if f.Exempt != "" {
		return string(f.Verdict) + " (exempt)"
	}
	return string(f.Verdict)
}

func component(f *policy.Finding) string {
	if f.Component == "" && f.Kind == policy.KindSDK {
		return "(client SDK)"
	}
	return f.Component
}

// manifest names where a result came from: "path:document".
func manifest(res *Result) string {
	if res.Source == "" {
		return "-"
	}
	if res.Document > 0 {
		return fmt.Sprintf("%s:%d", res.Source, res.Document)
	}
	return res.Source
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nsPrefix(ns string) string {
	if ns == "" {
		return "(no namespace)"
	}
	return ns
}

func summaryLine(r *Report) string {
	s := r.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "%d workload%s: %d too-old, %d unknown, %d ok, %d not-applicable",
		s.Workloads, plural(s.Workloads), s.TooOld, s.Unknown, s.OK, s.NotApplicable)
	if len(r.Skipped) > 0 {
		kinds := make([]string, 0, len(r.Skipped))
		total := 0
		for k, n := range r.Skipped {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
			total += n
		}
		sort.Strings(kinds)
		what := "documents that are not workloads"
		if total == 1 {
			what = "document that is not a workload"
		}
		fmt.Fprintf(&b, "; skipped %d %s (%s)", total, what, strings.Join(kinds, ", "))
	}
	if s.Errors > 0 {
		fmt.Fprintf(&b, "; %d input error%s (see above)", s.Errors, plural(s.Errors))
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
