package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// verdict is a Targets row's outcome.
type verdict int

const (
	info      verdict = iota // no target: for information
	met                      // ✓
	missed                   // ✗
	notJudged                // a target, but not run, not comparable or not valid
)

func (v verdict) String() string {
	switch v {
	case met:
		return "✓"
	case missed:
		return "✗"
	case notJudged:
		return "—"
	}
	return ""
}

// targetRow is one row of the Targets table.
type targetRow struct {
	What     string
	Where    string
	Measured string
	Target   string
	Verdict  verdict
	Note     string
}

// limit is a target: the measured value must be ≤ or ≥ Value.
type limit struct {
	AtMost bool
	Value  float64
	Unit   string // "" for ratios, " MB"
}

func (l *limit) String() string {
	if l == nil {
		return "—"
	}
	op := "≥"
	if l.AtMost {
		op = "≤"
	}
	return op + " " + strconv.FormatFloat(l.Value, 'f', -1, 64) + l.Unit
}

// ok reports whether v meets the target; the boundary itself meets it.
func (l *limit) ok(v float64) bool {
	if l.AtMost {
		return v <= l.Value
	}
	return v >= l.Value
}

// fmtValue prints v with 2 decimals, or with more when 2 would print the
// limit itself for a value that is not it (1.204 against ≤ 1.2 is 1.204, not
// 1.20, so that a ✗ never stands next to a value that reads as the limit).
func fmtValue(v float64, l *limit) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if l != nil && v != l.Value {
		for prec := 3; prec <= 6; prec++ {
			if p, _ := strconv.ParseFloat(s, 64); p != l.Value {
				break
			}
			s = strconv.FormatFloat(v, 'f', prec, 64)
		}
	}
	return s
}

// spread is the median and range of per-round figures.
type spread struct {
	Median, Min, Max float64
	N                int
}

func spreadOf(v []float64) spread {
	if len(v) == 0 {
		return spread{}
	}
	v = slices.Sorted(slices.Values(v))
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return spread{Median: med, Min: v[0], Max: v[n-1], N: n}
}

func (s spread) format(l *limit) string {
	if s.N == 1 {
		return fmtValue(s.Median, l) + " (1 round)"
	}
	return fmt.Sprintf("%s (%s–%s)", fmtValue(s.Median, l), fmtValue(s.Min, l), fmtValue(s.Max, l))
}

// perRound divides num's figure by den's round by round, matching runs by
// their round number (the loader runs every target once per round,
// interleaved, so both saw the same moment of the machine). Rounds where
// either figure is missing (0: not measured) are left out.
func perRound(num, den *loaderTarget, f func(*loaderRun) float64) []float64 {
	byRound := map[int]*loaderRun{}
	for _, r := range den.Runs {
		byRound[r.Round] = r
	}
	var out []float64
	for _, r := range num.Runs {
		d, ok := byRound[r.Round]
		if !ok {
			continue
		}
		a, b := f(r), f(d)
		if a <= 0 || b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
			continue
		}
		out = append(out, a/b)
	}
	return out
}

var (
	cpuPerReq = func(r *loaderRun) float64 { return r.ServerCPUus }
	p99       = func(r *loaderRun) float64 { return r.P99us }
)

// pick chooses a target of a report, with a name for the notes.
type pick struct {
	Name string
	Get  func(*loaderReport) *loaderTarget
}

var (
	pickFloor      = pick{"floor", func(r *loaderReport) *loaderTarget { return r.target(r.baseline()) }}
	pickTokenguard = pick{"tokenguard", (*loaderReport).tokenguard}
	pickPSA        = byName("psa")
)

func byName(name string) pick {
	return pick{name, func(r *loaderReport) *loaderTarget { return r.target(name) }}
}

// baseline is the report's baseline target name, floor by default.
func (rep *loaderReport) baseline() string {
	if rep.Baseline != "" {
		return rep.Baseline
	}
	return "floor"
}

// ratioRow is num ÷ den per round in one scenario's report.
func ratioRow(what, where string, rep *loaderReport, num, den pick, f func(*loaderRun) float64, l *limit) targetRow {
	row := targetRow{What: what, Where: where, Target: l.String(), Verdict: info}
	if l != nil {
		row.Verdict = notJudged
	}
	n, d := num.Get(rep), den.Get(rep)
	if n == nil || d == nil {
		missing := num.Name
		if n != nil {
			missing = den.Name
		}
		row.Measured, row.Note = "not run", "no "+missing+" target in this run"
		return row
	}
	r := perRound(n, d, f)
	if len(r) == 0 {
		row.Measured, row.Note = "n/a", "no figures to divide (not measured)"
		return row
	}
	sp := spreadOf(r)
	row.Measured = sp.format(l)
	switch {
	case rep.Failed:
		row.Note = "the run had errors: figures not valid"
	case l != nil && l.ok(sp.Median):
		row.Verdict = met
	case l != nil:
		row.Verdict = missed
	}
	return row
}

// perScenario makes one row per scenario of a phase with fn; a phase not
// run is one row, a scenario not run one row each.
func (s *suite) perScenario(what, phaseID string, def []string, l *limit, fn func(scen, where string, rep *loaderReport) targetRow) []targetRow {
	notRun := func(where, note string) targetRow {
		row := targetRow{What: what, Where: where, Measured: "not run", Target: l.String(), Verdict: info, Note: note}
		if l != nil {
			row.Verdict = notJudged
		}
		return row
	}
	p := s.Phases[phaseID]
	if p == nil {
		return []targetRow{notRun(phaseID, "phase "+phaseID+" not run")}
	}
	var rows []targetRow
	for _, scen := range p.scenarioList(def) {
		rep := p.Reports[scen]
		if rep == nil {
			rows = append(rows, notRun(phaseID+" · "+scen, "scenario not run"))
			continue
		}
		where := phaseID + " · " + scen
		if tg := rep.tokenguard(); tg != nil {
			where += " (" + tg.Name + ")"
		}
		rows = append(rows, fn(scen, where, rep))
	}
	return rows
}

// anyTarget reports whether a report of the phase has a target name
// satisfies.
func (s *suite) anyTarget(phaseID string, ok func(string) bool) bool {
	if p := s.Phases[phaseID]; p != nil {
		for _, rep := range p.Reports {
			for _, t := range rep.Targets {
				if ok(t.Name) {
					return true
				}
			}
		}
	}
	return false
}

// The targets of issue #8.
var (
	limitVsFloor = &limit{AtMost: true, Value: 1.2}
	limitPSA     = &limit{AtMost: false, Value: 1.5}
	limitOPA     = &limit{AtMost: false, Value: 2.5}
	limitP99     = &limit{AtMost: true, Value: 2}
	limitRSS     = &limit{AtMost: true, Value: 40, Unit: " MB"}
)

const (
	targetRate   = 1000  // req/s of the open-loop target
	targetImages = 10000 // cached digests of the memory target
)

// evaluate computes the Targets rows.
func (s *suite) evaluate() []targetRow {
	var rows []targetRow
	rows = append(rows, s.perScenario("tokenguard CPU/request ÷ floor's", "c8", allScenarios, limitVsFloor,
		func(scen, where string, rep *loaderReport) targetRow {
			return ratioRow("tokenguard CPU/request ÷ floor's", where, rep, pickTokenguard, pickFloor, cpuPerReq, limitVsFloor)
		})...)

	const psaWhat = "PSA CPU/request ÷ tokenguard's"
	if s.Phases["c8"] != nil && !s.anyTarget("c8", func(n string) bool { return n == "psa" }) {
		rows = append(rows, targetRow{What: psaWhat, Where: "c8", Measured: "not run", Target: limitPSA.String(),
			Verdict: notJudged, Note: "no psa target (PEERS=0)"})
	} else {
		rows = append(rows, s.perScenario(psaWhat, "c8", allScenarios, limitPSA,
			func(scen, where string, rep *loaderReport) targetRow {
				row := ratioRow(psaWhat, where, rep, pickPSA, pickTokenguard, cpuPerReq, limitPSA)
				if strings.HasPrefix(scen, "deployment") {
					row.Verdict, row.Target = notJudged, "("+row.Target+")"
					row.Note = "PSA does not evaluate Deployments (enforces on Pods only): not counted"
				}
				return row
			})...)
	}

	var apis []string
	if p := s.Phases["c8"]; p != nil {
		for _, scen := range p.Scenarios {
			for _, api := range p.Reports[scen].opaAPIs() {
				if !slices.Contains(apis, api) {
					apis = append(apis, api)
				}
			}
		}
	}
	if len(apis) == 0 {
		row := targetRow{What: "OPA CPU/request ÷ tokenguard's", Where: "c8", Measured: "not run", Target: limitOPA.String(),
			Verdict: notJudged, Note: "no OPA target (PEERS=0)"}
		if s.Phases["c8"] == nil {
			row.Note = "phase c8 not run"
		}
		rows = append(rows, row)
	}
	slices.Sort(apis)
	for _, api := range apis {
		what := "OPA (" + api + ") CPU/request ÷ tokenguard's"
		rows = append(rows, s.perScenario(what, "c8", allScenarios, limitOPA,
			func(scen, where string, rep *loaderReport) targetRow {
				return ratioRow(what, where, rep, byName(api), pickTokenguard, cpuPerReq, limitOPA)
			})...)
	}

	const openWhat = "tokenguard p99 ÷ floor's, open loop"
	rows = append(rows, s.perScenario(openWhat, "open1000", podScenarios, limitP99,
		func(scen, where string, rep *loaderReport) targetRow {
			row := ratioRow(openWhat, where, rep, pickTokenguard, pickFloor, p99, limitP99)
			if rep.Mode != "open" || rep.Rate != targetRate {
				row.Verdict = notJudged
				row.Note = fmt.Sprintf("measured %s loop at %s; the target is at %s req/s: not judged", rep.Mode, fmtRate(rep.Rate), thousands(targetRate))
			}
			return row
		})...)

	rows = append(rows, s.cachememRows()...)

	const c1What = "tokenguard p99 ÷ floor's, c=1"
	rows = append(rows, s.perScenario(c1What, "c1", podScenarios, nil,
		func(scen, where string, rep *loaderReport) targetRow {
			return ratioRow(c1What, where, rep, pickTokenguard, pickFloor, p99, nil)
		})...)
	rows = append(rows, s.peakRSSRows()...)
	return rows
}

// thousands prints n with a comma between thousands: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtRate(r float64) string {
	if r == 0 {
		return "no fixed rate"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + " req/s"
}

// cachememRows are the memory target: tokenguard serve's VmRSS and VmHWM
// after the second pass over 10,000 cached digests.
func (s *suite) cachememRows() []targetRow {
	whats := []string{"tokenguard serve VmRSS, cached digests, after the 2nd pass", "tokenguard serve VmHWM (peak), cached digests, after the 2nd pass"}
	rows := make([]targetRow, len(whats))
	for i, what := range whats {
		rows[i] = targetRow{What: what, Where: "cachemem", Measured: "not run", Target: limitRSS.String(), Verdict: notJudged, Note: "phase cachemem not run"}
	}
	c := s.Cachemem
	switch {
	case c == nil:
		return rows
	case c.Result == nil:
		for i := range rows {
			rows[i].Note = "cachemem wrote no cachemem.json: it failed"
		}
		return rows
	case c.Result.Mode != "serve":
		for i := range rows {
			rows[i].Note = "cachemem ran " + c.Result.Mode + ", not -serve"
		}
		return rows
	}
	res := c.Result
	where := "cachemem · " + thousands(res.Images) + " digests"
	counts := "cache hits ?, misses ? (no counters on /metrics)"
	if res.CacheHits != nil && res.CacheMisses != nil {
		counts = fmt.Sprintf("cache hits %.0f, misses %.0f", *res.CacheHits, *res.CacheMisses)
	}
	kb := [][3]int64{
		{res.Idle.VmRSSkB, res.AfterPass1.VmRSSkB, res.AfterPass2.VmRSSkB},
		{res.Idle.VmHWMkB, res.AfterPass1.VmHWMkB, res.AfterPass2.VmHWMkB},
	}
	for i := range rows {
		v := float64(kb[i][2]) / 1024
		rows[i].Where = where
		rows[i].Measured = fmtValue(v, limitRSS) + " MB"
		rows[i].Note = fmt.Sprintf("idle %.1f, after pass 1 %.1f MB; %s", float64(kb[i][0])/1024, float64(kb[i][1])/1024, counts)
		switch {
		case res.Images != targetImages:
			rows[i].Note = fmt.Sprintf("measured with %s digests; the target is for %s: not judged; ", thousands(res.Images), thousands(targetImages)) + rows[i].Note
		case limitRSS.ok(v):
			rows[i].Verdict = met
		default:
			rows[i].Verdict = missed
		}
	}
	return rows
}

// peakRSSRows are every server's highest VmHWM over all loader phases.
func (s *suite) peakRSSRows() []targetRow {
	order := []string{"floor", "floor-review-only", "tokenguard", "psa", "opa"}
	peak := map[string]float64{}
	where := map[string][]string{}
	for _, def := range loaderPhases {
		p := s.Phases[def.ID]
		if p == nil {
			continue
		}
		for _, scen := range p.Scenarios {
			for _, t := range p.Reports[scen].Targets {
				srv := server(t.Name)
				if !slices.Contains(order, srv) {
					order = append(order, srv)
				}
				for _, r := range t.Runs {
					peak[srv] = max(peak[srv], r.PeakRSSMB)
				}
				if !slices.Contains(where[srv], def.ID) {
					where[srv] = append(where[srv], def.ID)
				}
			}
		}
	}
	var rows []targetRow
	for _, srv := range order {
		if where[srv] == nil {
			continue
		}
		row := targetRow{What: "peak RSS (VmHWM), " + srv, Where: strings.Join(where[srv], ", "), Target: "—", Verdict: info,
			Measured: fmt.Sprintf("%.1f MB", peak[srv])}
		if peak[srv] == 0 {
			row.Measured = "n/a"
		}
		if srv == "tokenguard" {
			row.Note = "no cached digests (registry lookups off); see cachemem"
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		rows = append(rows, targetRow{What: "peak RSS (VmHWM), every server", Where: "c8, c1, open1000", Measured: "not run", Target: "—", Verdict: info, Note: "no loader phase run"})
	}
	return rows
}

// count tallies the rows that have a target.
func (s *suite) count() (met_, missed_, unjudged int) {
	for _, r := range s.targets {
		switch r.Verdict {
		case met:
			met_++
		case missed:
			missed_++
		case notJudged:
			unjudged++
		}
	}
	return
}
