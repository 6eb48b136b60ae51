package report

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"text/tabwriter"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// sample makes n results with many ties (equal namespace, kind, name,
// source and document, as items of one List are) so that stability shows,
// names of several widths and scripts, nil and empty findings, and
// exempt findings.
func sample(n int, seed uint64) ([]Result, []Error) {
	rng := rand.New(rand.NewPCG(seed, 7))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	verdicts := []policy.Verdict{policy.VerdictOK, policy.VerdictTooOld, policy.VerdictUnknown, policy.VerdictNotApplicable}
	var rs []Result
	for i := 0; i < n; i++ {
		r := Result{
			Kind: pick("Pod", "Deployment", "CronJob"), Namespace: pick("", "prod", "kube-system", "ünïcode"),
			Name: pick("a", "api", "a-much-longer-workload-name", "名前"), Source: pick("", "-", "x.yaml", "dir/y.yaml"),
			Document: rng.IntN(3), Verdict: verdicts[rng.IntN(len(verdicts))],
		}
		switch rng.IntN(10) {
		case 0: // nil findings
		case 1:
			r.Findings = []policy.Finding{}
		default:
			for j := rng.IntN(3) + 1; j > 0; j-- {
				f := policy.Finding{
					Container: pick("", "c", "sidecar-ü"), Image: fmt.Sprintf("img:%d", i), Component: pick("", "coredns", "k8s.io/client-go"),
					Kind: pick(policy.KindSDK, "addon"), Version: pick("", "v1.2.3"), Minimum: pick("", "1.8.4"),
					Source: pick("", "tag", "sbom:spdx-referrer"), Verdict: verdicts[rng.IntN(len(verdicts))],
					Reason: policy.ReasonBelowMinimum, Fix: pick("", "upgrade"), Exempt: pick("", "", "", "namespace"),
				}
				r.Findings = append(r.Findings, f)
			}
		}
		rs = append(rs, r)
	}
	var errs []Error
	for i := 0; i < n/3; i++ {
		errs = append(errs, Error{Source: "bad.yaml", Document: i + 1, Message: fmt.Sprintf("bad.yaml: document %d: <broken> & \"quoted\"", i+1)})
	}
	return rs, errs
}

func spoolOf(t testing.TB, rs []Result, errs []Error, skipped map[string]int) *Spool {
	t.Helper()
	s := NewSpool(t.TempDir())
	t.Cleanup(func() { s.Close() })
	for _, r := range rs {
		if err := s.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range errs {
		if err := s.AddError(e); err != nil {
			t.Fatal(err)
		}
	}
	for k, n := range skipped {
		for ; n > 0; n-- {
			s.Skip(k)
		}
	}
	return s
}

func reportOf(rs []Result, errs []Error, skipped map[string]int) *Report {
	r := &Report{Results: append([]Result(nil), rs...), Errors: errs, Skipped: skipped}
	r.Finish()
	return r
}

// small shrinks the spool so that a few thousand results spill to runs,
// merge across levels and send errors to a file.
func small(t *testing.T) {
	r, f, fan, e := spoolRunResults, spoolRunFindings, spoolFanIn, spoolErrors
	spoolRunResults, spoolRunFindings, spoolFanIn, spoolErrors = 7, 20, 3, 5
	t.Cleanup(func() { spoolRunResults, spoolRunFindings, spoolFanIn, spoolErrors = r, f, fan, e })
}

// TestSpoolWritesAsReport: whatever its size, a spool writes the bytes the
// Report of the same results writes, JSON and text.
func TestSpoolWritesAsReport(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		small   bool
		skipped map[string]int
	}{
		{"empty", 0, false, nil},
		{"one", 1, false, map[string]int{"Service": 2}},
		{"in memory", 500, false, map[string]int{"Service": 1, "ConfigMap": 3}},
		{"runs on disk, merged over levels", 3000, true, map[string]int{"Namespace": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.small {
				small(t)
			}
			rs, errs := sample(tt.n, uint64(tt.n))
			want := reportOf(rs, errs, tt.skipped)
			s := spoolOf(t, rs, errs, tt.skipped)
			if tt.small && (len(s.runs) < 2 || s.errFile == nil) {
				t.Fatalf("the spool kept everything in memory (%d runs)", len(s.runs))
			}
			if tt.small {
				levels := map[int]bool{}
				for _, r := range s.runs {
					levels[r.level] = true
				}
				if len(levels) < 2 {
					t.Errorf("runs never merged: levels %v", levels)
				}
			}
			if s.Summary() != want.Summary {
				t.Errorf("summary %+v, want %+v", s.Summary(), want.Summary)
			}
			for _, th := range []policy.Verdict{policy.VerdictTooOld, policy.VerdictUnknown} {
				if s.AtOrAbove(th) != want.AtOrAbove(th) {
					t.Errorf("AtOrAbove(%s) = %v", th, s.AtOrAbove(th))
				}
			}
			var wj, gj bytes.Buffer
			if err := WriteJSON(&wj, want); err != nil {
				t.Fatal(err)
			}
			for pass := 0; pass < 2; pass++ { // a spool can be written more than once
				gj.Reset()
				if err := s.WriteJSON(&gj); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(gj.Bytes(), wj.Bytes()) {
					t.Fatalf("pass %d: JSON differs\n--- spool\n%.2000s\n--- report\n%.2000s", pass, gj.String(), wj.String())
				}
			}
			var wt, we, gt, ge bytes.Buffer
			if err := writeTextTabwriter(&wt, &we, want); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteText(&gt, &ge); err != nil {
				t.Fatal(err)
			}
			if gt.String() != wt.String() || ge.String() != we.String() {
				t.Errorf("text differs from the tabwriter rendering\n--- spool\n%.3000s\n--- tabwriter\n%.3000s", gt.String(), wt.String())
			}
			var rt, re bytes.Buffer
			if err := WriteText(&rt, &re, want); err != nil {
				t.Fatal(err)
			}
			if rt.String() != wt.String() || re.String() != we.String() {
				t.Errorf("WriteText of a Report differs from the tabwriter rendering")
			}
		})
	}
}

func TestSpoolCloseRemovesFiles(t *testing.T) {
	small(t)
	dir := t.TempDir()
	s := NewSpool(dir)
	rs, errs := sample(200, 1)
	for _, r := range rs {
		if err := s.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range errs {
		if err := s.AddError(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteJSON(io.Discard); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("spool directory not made: %v", ents)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("stat: %v", err)
	}
}

// writeTextTabwriter is WriteText as it was before rows were streamed,
// built on text/tabwriter holding every row: the reference the fixed-width
// table must match.
func writeTextTabwriter(w, errw io.Writer, r *Report) error {
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
	fmt.Fprintf(w, "\n%s\n", summaryLine(r.Summary, r.Skipped))
	return nil
}

// BenchmarkSpool: adding and writing results past the in-memory run size.
func BenchmarkSpool(b *testing.B) {
	rs, _ := sample(20000, 3)
	b.ReportAllocs()
	for b.Loop() {
		s := NewSpool(b.TempDir())
		for _, r := range rs {
			if err := s.Add(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.WriteJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
