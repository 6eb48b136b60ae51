package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// WriteText writes a table of every finding, then the sentences for what
// must be fixed, then a summary line. Input errors go to errw.
func WriteText(w, errw io.Writer, r *Report) error { return writeText(w, errw, r) }

// tableHeader is the table's first row; a MANIFEST column follows when a
// result names its manifest.
var tableHeader = [...]string{"NAMESPACE", "WORKLOAD", "CONTAINER", "COMPONENT", "VERSION", "MINIMUM", "VERDICT", "SOURCE"}

// tableStats is what the table's layout needs to know of all rows before
// the first is written: whether the MANIFEST column is shown, and the width
// of each column but the last.
type tableStats struct {
	manifests bool
	widths    [len(tableHeader)]int
}

func (st *tableStats) add(res *Result) {
	st.manifests = st.manifests || res.Source != ""
	for j := range res.Findings {
		cells := row(res, &res.Findings[j])
		for i := range cells {
			st.widths[i] = max(st.widths[i], utf8.RuneCountInString(cells[i]))
		}
	}
}

// row is a finding's cells, without the MANIFEST one.
func row(res *Result, f *policy.Finding) [len(tableHeader)]string {
	return [...]string{dash(res.Namespace), res.Kind + "/" + res.Name, dash(f.Container), dash(component(f)),
		dash(f.Version), dash(f.Minimum), verdictText(f), f.Source}
}

// table writes rows as text/tabwriter would (no minimum width, padding 2,
// spaces), from widths known in advance, so that no row is held back.
type table struct {
	w      *bufio.Writer
	widths []int
}

func newTable(w *bufio.Writer, st tableStats) *table {
	t := &table{w: w}
	for i, h := range tableHeader {
		t.widths = append(t.widths, max(st.widths[i], utf8.RuneCountInString(h))+2)
	}
	return t
}

// line writes cells; every cell but the last is padded to its column.
func (t *table) line(cells ...string) {
	for i, c := range cells {
		t.w.WriteString(c)
		if i == len(cells)-1 {
			break
		}
		for n := utf8.RuneCountInString(c); n < t.widths[i]; n++ {
			t.w.WriteByte(' ')
		}
	}
	t.w.WriteByte('\n')
}

func writeText(w, errw io.Writer, src source) error {
	st := src.stats()
	bw := bufio.NewWriterSize(w, 64<<10)
	tab := newTable(bw, st)
	if st.manifests {
		tab.line(append(tableHeader[:], "MANIFEST")...)
	} else {
		tab.line(tableHeader[:]...)
	}
	err := src.each(func(res *Result) error {
		for j := range res.Findings {
			cells := row(res, &res.Findings[j])
			if st.manifests {
				tab.line(append(cells[:], manifest(res))...)
			} else {
				tab.line(cells[:]...)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, want := range []policy.Verdict{policy.VerdictTooOld, policy.VerdictUnknown} {
		header := false
		err := src.each(func(res *Result) error {
			for j := range res.Findings {
				f := &res.Findings[j]
				if f.Weight() != want || f.Exempt != "" {
					continue
				}
				if !header {
					fmt.Fprintf(bw, "\n%s:\n", sectionTitle(want))
					header = true
				}
				fmt.Fprintf(bw, "  %s %s/%s: %s\n", nsPrefix(res.Namespace), res.Kind, res.Name, f.Message())
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := writeErrors(errw, src); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\n%s\n", summaryLine(src.counts(), src.skipped()))
	return err
}

// writeErrors writes one "error: <message>" line per input error.
func writeErrors(w io.Writer, src source) error {
	bw := bufio.NewWriter(w)
	err := src.eachError(func(e *Error) error {
		_, err := fmt.Fprintf(bw, "error: %s\n", e.Message)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

func sectionTitle(v policy.Verdict) string {
	if v == policy.VerdictTooOld {
		return "Too old (these would be denied in an enforce namespace)"
	}
	return "Unknown or uncertain (allowed unless the configuration says unknown: warn|deny; an uncertain minimum warns and never denies)"
}

func verdictText(f *policy.Finding) string {
	switch {
	case f.Exempt != "":
		return string(f.Verdict) + " (exempt)"
	case f.Advisory != "" && f.Verdict == policy.VerdictTooOld:
		return string(f.Verdict) + " (uncertain)"
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

func summaryLine(s Summary, skipped map[string]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d workload%s: %d too-old, %d unknown, %d ok, %d not-applicable",
		s.Workloads, plural(s.Workloads), s.TooOld, s.Unknown, s.OK, s.NotApplicable)
	if len(skipped) > 0 {
		kinds := make([]string, 0, len(skipped))
		total := 0
		for k, n := range skipped {
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
