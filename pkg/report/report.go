package report

import (
	"sort"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Report is the `-o json` document of `check` and `audit`. Its fields are a
// contract: extra fields may be added, none removed or renamed.
type Report struct {
	Results []Result `json:"results"`
	// Skipped counts documents of kinds that are not workloads, by kind.
	Skipped map[string]int `json:"skipped,omitempty"`
	// Errors lists inputs that could not be judged (bad YAML, no containers).
	Errors  []Error `json:"errors,omitempty"`
	Summary Summary `json:"summary"`
}

// Result is the verdict on one workload.
type Result struct {
	Kind      string           `json:"kind"`
	Namespace string           `json:"namespace"`
	Name      string           `json:"name"`
	Verdict   policy.Verdict   `json:"verdict"`
	Findings  []policy.Finding `json:"findings"`
	// Source and Document say where the manifest came from (check only).
	Source   string `json:"source,omitempty"`
	Document int    `json:"document,omitempty"`
	// Line is the line of Source where the workload's object starts, and
	// ImageLines the line of each container's image by container name (0
	// and nil when not known). They place SARIF and JUnit results; the
	// JSON contract does not carry them.
	Line       int            `json:"-"`
	ImageLines map[string]int `json:"-"`
}

// Error is one input that could not be judged.
type Error struct {
	Source   string `json:"source,omitempty"`
	Document int    `json:"document,omitempty"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
}

// Summary counts workloads by verdict.
type Summary struct {
	Workloads     int `json:"workloads"`
	TooOld        int `json:"tooOld"`
	Unknown       int `json:"unknown"`
	OK            int `json:"ok"`
	NotApplicable int `json:"notApplicable"`
	Errors        int `json:"errors"`
}

// Finish sorts results deterministically (by namespace, kind, name, source
// and document; ties keep their order) and fills the summary.
func (r *Report) Finish() {
	sort.SliceStable(r.Results, func(i, j int) bool { return less(&r.Results[i], &r.Results[j]) })
	if r.Results == nil {
		r.Results = []Result{}
	}
	s := Summary{Workloads: len(r.Results), Errors: len(r.Errors)}
	for i := range r.Results {
		switch r.Results[i].Verdict {
		case policy.VerdictTooOld:
			s.TooOld++
		case policy.VerdictUnknown:
			s.Unknown++
		case policy.VerdictOK:
			s.OK++
		default:
			s.NotApplicable++
		}
	}
	r.Summary = s
}

// AtOrAbove reports whether any workload's verdict is at or above threshold
// (too-old, or unknown meaning unknown-or-worse).
func (r *Report) AtOrAbove(threshold policy.Verdict) bool {
	for i := range r.Results {
		if r.Results[i].Verdict.Rank() >= threshold.Rank() {
			return true
		}
	}
	return false
}

// less is the order of results: namespace, kind, name, source, document.
func less(a, b *Result) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Source != b.Source {
		return a.Source < b.Source
	}
	return a.Document < b.Document
}

// source is what the writers read: a Report, or a Spool of any size.
type source interface {
	// each hands the results to fn in Finish's order.
	each(fn func(*Result) error) error
	// eachError hands the input errors to fn in their order.
	eachError(fn func(*Error) error) error
	skipped() map[string]int
	counts() Summary
	stats() tableStats
}

func (r *Report) each(fn func(*Result) error) error {
	for i := range r.Results {
		if err := fn(&r.Results[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Report) eachError(fn func(*Error) error) error {
	for i := range r.Errors {
		if err := fn(&r.Errors[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Report) skipped() map[string]int { return r.Skipped }
func (r *Report) counts() Summary         { return r.Summary }

func (r *Report) stats() tableStats {
	var st tableStats
	for i := range r.Results {
		st.add(&r.Results[i])
	}
	return st
}
