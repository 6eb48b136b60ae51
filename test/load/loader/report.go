package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// runResult is one target's run in one round.
type runResult struct {
	Round       int         `json:"round"`
	Planned     int         `json:"planned"`  // requests the run meant to send
	Answered    int         `json:"answered"` // responses read (any status)
	OK          int         `json:"ok"`       // HTTP 200 with "allowed" and the uid
	Allowed     int         `json:"allowed"`
	Denied      int         `json:"denied"`
	Errors      int         `json:"errors"`   // transport errors: no response
	Non200      int         `json:"non200"`   // responses with another status
	BadBody     int         `json:"bad_body"` // 200 without "allowed" or the uid
	Statuses    map[int]int `json:"statuses,omitempty"`
	FirstError  string      `json:"first_error,omitempty"`
	TimedOut    bool        `json:"timed_out"`   // stopped by -timeout
	ServerGone  bool        `json:"server_gone"` // its /proc/PID/stat vanished
	Late        int         `json:"late"`        // open loop: sends >1 ms behind schedule
	ElapsedSec  float64     `json:"elapsed_s"`
	ReqPerSec   float64     `json:"req_per_s"`
	P50us       float64     `json:"p50_us"`
	P90us       float64     `json:"p90_us"`
	P99us       float64     `json:"p99_us"`
	P999us      float64     `json:"p999_us"`
	MaxUs       float64     `json:"max_us"`
	ServerCPUus float64     `json:"server_cpu_us_per_req"` // 0: not measured
	LoaderCPUus float64     `json:"loader_cpu_us_per_req"`
	// The server's VmHWM (peak RSS since it started, so also over the runs
	// of earlier targets served by the same process) and VmRSS, read from
	// /proc/PID/status after the run; 0: not measured.
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
	RSSMB     float64 `json:"rss_mb,omitempty"`
}

// setLatencies sorts ns latencies and keeps nearest-rank percentiles in µs.
func (r *runResult) setLatencies(ns []int64) {
	if len(ns) == 0 {
		return
	}
	slices.Sort(ns)
	q := func(p float64) float64 {
		i := max(int(math.Ceil(p*float64(len(ns))))-1, 0)
		return float64(ns[i]) / 1e3
	}
	r.P50us, r.P90us, r.P99us, r.P999us = q(0.50), q(0.90), q(0.99), q(0.999)
	r.MaxUs = float64(ns[len(ns)-1]) / 1e3
}

func (r *runResult) failed() bool {
	return r.Errors+r.Non200+r.BadBody > 0 || r.TimedOut || r.ServerGone || r.Answered < r.Planned
}

func (r *runResult) problem() string {
	var p []string
	if r.Errors > 0 {
		p = append(p, fmt.Sprintf("%d transport errors", r.Errors))
	}
	if r.Non200 > 0 {
		var codes []string
		for _, code := range slices.Sorted(maps.Keys(r.Statuses)) {
			codes = append(codes, fmt.Sprintf("%d×%d", r.Statuses[code], code))
		}
		p = append(p, fmt.Sprintf("%d non-200 (%s)", r.Non200, strings.Join(codes, ", ")))
	}
	if r.BadBody > 0 {
		p = append(p, fmt.Sprintf("%d bodies without \"allowed\"/uid", r.BadBody))
	}
	if r.TimedOut {
		p = append(p, fmt.Sprintf("stopped by -timeout after %d of %d requests", r.Answered, r.Planned))
	} else if r.Answered < r.Planned && r.Errors+r.Non200+r.BadBody == 0 {
		p = append(p, fmt.Sprintf("only %d of %d requests answered", r.Answered, r.Planned))
	}
	if r.ServerGone {
		p = append(p, "server process gone (no /proc/PID/stat)")
	}
	if r.FirstError != "" {
		p = append(p, "first: "+r.FirstError)
	}
	return strings.Join(p, "; ")
}

func (r *runResult) oneLine() string {
	server := "   n/a"
	if r.ServerCPUus > 0 {
		server = fmt.Sprintf("%6.1f", r.ServerCPUus)
	}
	s := fmt.Sprintf("%6d req in %6.2fs  %8.0f req/s  p50 %6.0fµs  p99 %7.0fµs  max %7.0fµs  server %s µs/req  loader %5.1f µs/req",
		r.Answered, r.ElapsedSec, r.ReqPerSec, r.P50us, r.P99us, r.MaxUs, server, r.LoaderCPUus)
	if r.PeakRSSMB > 0 {
		s += fmt.Sprintf("  peak RSS %.1f MB", r.PeakRSSMB)
	}
	if r.Late > 0 {
		s += fmt.Sprintf("  late %d", r.Late)
	}
	if r.failed() {
		s += "  !!! " + r.problem()
	}
	return s
}

// summary is a target's figures over all rounds: medians, the worst max.
type summary struct {
	ReqPerSec   float64 `json:"req_per_s"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	MaxUs       float64 `json:"max_us"` // worst round
	ServerCPUus float64 `json:"server_cpu_us_per_req"`
	LoaderCPUus float64 `json:"loader_cpu_us_per_req"`
	PeakRSSMB   float64 `json:"peak_rss_mb,omitempty"` // highest VmHWM over the rounds
	RSSMB       float64 `json:"rss_mb,omitempty"`      // VmRSS after the last round
	OK          int     `json:"ok"`                    // summed over rounds, as are the rest
	Allowed     int     `json:"allowed"`
	Denied      int     `json:"denied"`
	Failures    int     `json:"failures"` // errors + non-200 + bad bodies + unanswered
	Late        int     `json:"late"`
}

// ratios compare a target with the baseline: target ÷ baseline.
type ratios struct {
	ServerCPU  float64 `json:"server_cpu"`
	Throughput float64 `json:"throughput"`
	P99        float64 `json:"p99"`
}

type targetReport struct {
	Name    string       `json:"name"`
	URL     string       `json:"url"`
	PID     int          `json:"pid,omitempty"`
	Runs    []*runResult `json:"runs"`
	Summary summary      `json:"summary"`
	Ratios  *ratios      `json:"vs_baseline,omitempty"`
}

type report struct {
	Started     time.Time       `json:"started"`
	GoVersion   string          `json:"go_version"`
	NumCPU      int             `json:"num_cpu"`
	GOMAXPROCS  int             `json:"gomaxprocs"`
	ClockTicks  int64           `json:"clk_tck"`
	Body        string          `json:"body"`
	BodyBytes   int             `json:"body_bytes"`
	Mode        string          `json:"mode"` // closed | open
	Concurrency int             `json:"concurrency"`
	Requests    int             `json:"requests_per_round,omitempty"`
	Rate        float64         `json:"rate_per_s,omitempty"`
	Duration    string          `json:"duration,omitempty"`
	Rounds      int             `json:"rounds"`
	Baseline    string          `json:"baseline,omitempty"`
	Targets     []*targetReport `json:"targets"`
	Failed      bool            `json:"failed"`
}

func median(runs []*runResult, f func(*runResult) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func (rep *report) summarise() {
	var base *targetReport
	for _, t := range rep.Targets {
		s := &t.Summary
		s.ReqPerSec = median(t.Runs, func(r *runResult) float64 { return r.ReqPerSec })
		s.P50us = median(t.Runs, func(r *runResult) float64 { return r.P50us })
		s.P90us = median(t.Runs, func(r *runResult) float64 { return r.P90us })
		s.P99us = median(t.Runs, func(r *runResult) float64 { return r.P99us })
		s.ServerCPUus = median(t.Runs, func(r *runResult) float64 { return r.ServerCPUus })
		s.LoaderCPUus = median(t.Runs, func(r *runResult) float64 { return r.LoaderCPUus })
		for _, r := range t.Runs {
			s.MaxUs = max(s.MaxUs, r.MaxUs)
			s.PeakRSSMB = max(s.PeakRSSMB, r.PeakRSSMB)
			s.RSSMB = r.RSSMB
			s.OK += r.OK
			s.Allowed += r.Allowed
			s.Denied += r.Denied
			s.Late += r.Late
			s.Failures += r.Errors + r.Non200 + r.BadBody + max(r.Planned-r.Answered, 0)
			if r.failed() {
				rep.Failed = true
			}
		}
		if t.Name == rep.Baseline {
			base = t
		}
	}
	if base == nil {
		return
	}
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	for _, t := range rep.Targets {
		t.Ratios = &ratios{
			ServerCPU:  div(t.Summary.ServerCPUus, base.Summary.ServerCPUus),
			Throughput: div(t.Summary.ReqPerSec, base.Summary.ReqPerSec),
			P99:        div(t.Summary.P99us, base.Summary.P99us),
		}
	}
}

// markdown prints the results table, then every failed run.
func (rep *report) markdown(w io.Writer) {
	load := fmt.Sprintf("closed loop, %d workers, %d requests per target per round", rep.Concurrency, rep.Requests)
	if rep.Mode == "open" {
		load = fmt.Sprintf("open loop, %.0f req/s for %s, at most %d in flight; latency from the scheduled send time", rep.Rate, rep.Duration, rep.Concurrency)
	}
	fmt.Fprintf(w, "\n### %s (%d B)\n\n", rep.Body, rep.BodyBytes)
	fmt.Fprintf(w, "%s; %d rounds, targets interleaved; median of rounds (max: worst round). %s, %d CPUs, GOMAXPROCS %d, HTTP/1.1 keep-alive.\n\n",
		load, rep.Rounds, rep.GoVersion, rep.NumCPU, rep.GOMAXPROCS)
	head := "| target | req/s | p50 µs | p90 µs | p99 µs | max µs | server CPU µs/req | peak RSS MB | loader CPU µs/req | allowed / denied | failures |"
	sep := "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	if rep.Baseline != "" {
		head += fmt.Sprintf(" CPU × %s | req/s × %s | p99 × %s |", rep.Baseline, rep.Baseline, rep.Baseline)
		sep += "--:|--:|--:|"
	}
	if rep.Mode == "open" {
		head += " late sends |"
		sep += "--:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	for _, t := range rep.Targets {
		s := t.Summary
		cpu := "n/a"
		if t.PID > 0 {
			cpu = fmt.Sprintf("%.1f", s.ServerCPUus)
		}
		rss := "n/a"
		if s.PeakRSSMB > 0 {
			rss = fmt.Sprintf("%.1f", s.PeakRSSMB)
		}
		fail := fmt.Sprint(s.Failures)
		if s.Failures > 0 {
			fail = "**" + fail + "**"
		}
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s | %.1f | %d / %d | %s |",
			t.Name, s.ReqPerSec, s.P50us, s.P90us, s.P99us, s.MaxUs, cpu, rss, s.LoaderCPUus, s.Allowed, s.Denied, fail)
		if t.Ratios != nil {
			r := t.Ratios
			cpuRatio := "n/a"
			if r.ServerCPU > 0 {
				cpuRatio = fmt.Sprintf("%.2f", r.ServerCPU)
			}
			fmt.Fprintf(w, " %s | %.2f | %.2f |", cpuRatio, r.Throughput, r.P99)
		}
		if rep.Mode == "open" {
			fmt.Fprintf(w, " %d |", s.Late)
		}
		fmt.Fprintln(w)
	}
	if !rep.Failed {
		return
	}
	fmt.Fprintf(w, "\n**ERRORS — these figures are not valid:**\n\n")
	for _, t := range rep.Targets {
		for _, r := range t.Runs {
			if r.failed() {
				fmt.Fprintf(w, "- %s, round %d: %s\n", t.Name, r.Round, r.problem())
			}
		}
	}
}
