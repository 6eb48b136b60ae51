package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// markdown renders the summary page.
func (s *suite) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Load-test suite: tokenguard, the floor and the peers (issue #8)\n\n")
	if r := s.Record; r != nil {
		w("Started %s, summary written %s (%s later). Results: `%s/`.\n\n",
			r.Started.Format("2006-01-02 15:04:05 MST"), s.Written.Format("15:04:05 MST"),
			s.Written.Sub(r.Started).Round(time.Second), s.Dir)
	} else {
		w("Summary written %s. Results: `%s/`.\n\n", s.Written.Format("2006-01-02 15:04:05 MST"), s.Dir)
	}
	s.machineSection(&b)
	s.commandSection(&b)
	s.targetsSection(&b)
	for _, def := range loaderPhases {
		s.phaseSection(&b, def)
	}
	s.cachememSection(&b)
	return b.String()
}

func (s *suite) machineSection(b *strings.Builder) {
	m, when := machine{}, ""
	if s.Record != nil {
		m, when = s.Record.Machine, s.Record.Started.Format("2006-01-02")
	} else {
		m, when = readMachine(), s.Written.Format("2006-01-02")+" (no suite.json: this machine, read when the summary was written)"
	}
	fmt.Fprintf(b, "## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(b, "| CPU | %s (%d processors in /proc/cpuinfo) |\n", cell(m.CPUModel), m.CPUs)
	gmp := fmt.Sprint(m.GOMAXPROCS)
	if m.GOMAXPROCSEnv != "" {
		gmp += " (GOMAXPROCS=" + cell(m.GOMAXPROCSEnv) + " in the environment)"
	}
	fmt.Fprintf(b, "| CPUs usable (nproc) / GOMAXPROCS | %d / %s |\n", m.NumCPU, gmp)
	fmt.Fprintf(b, "| kernel | %s |\n", cell(m.Kernel))
	fmt.Fprintf(b, "| Go | %s %s/%s |\n", m.GoVersion, m.GOOS, m.GOARCH)
	if rep := s.anyReport(); rep != nil {
		fmt.Fprintf(b, "| loader (its JSON) | %s, %d CPUs, GOMAXPROCS %d |\n", rep.GoVersion, rep.NumCPU, rep.GOMAXPROCS)
	}
	fmt.Fprintf(b, "| date | %s |\n\n", when)
}

// anyReport is the first loader report of the suite, nil when none.
func (s *suite) anyReport() *loaderReport {
	for _, def := range loaderPhases {
		if p := s.Phases[def.ID]; p != nil {
			return p.Reports[p.Scenarios[0]]
		}
	}
	return nil
}

func (s *suite) commandSection(b *strings.Builder) {
	fmt.Fprintf(b, "## Command\n\n")
	r := s.Record
	if r == nil {
		fmt.Fprintf(b, "Unknown: no suite.json in `%s/` (written when test/load/run.sh starts a suite, SUITE=1).\n\n", s.Dir)
		return
	}
	fmt.Fprintf(b, "```sh\n%s\n```\n\n", r.command())
	if len(r.Settings) == 0 {
		return
	}
	fmt.Fprintf(b, "| setting | value |\n|---|---|\n")
	for _, kv := range r.Settings {
		v := "`" + cell(kv.Value) + "`"
		if kv.Value == "" {
			v = "(empty)"
		}
		fmt.Fprintf(b, "| %s | %s |\n", cell(kv.Key), v)
	}
	b.WriteString("\n")
}

func (s *suite) targetsSection(b *strings.Builder) {
	met, missed, unjudged := s.count()
	fmt.Fprintf(b, "## Targets (issue #8)\n\n")
	fmt.Fprintf(b, "**%d met, %d missed, %d not judged** (not run, not comparable with the target, or not valid).\n\n", met, missed, unjudged)
	b.WriteString("Ratios are computed per round, against the same round of the other target (the loader runs the targets " +
		"interleaved, round by round): the median over the rounds, (min–max) after it; the median is judged. " +
		"The phase tables below show the loader's ratios of the medians instead. Rows without a target are for information.\n\n")
	b.WriteString("| what | phase · scenario (tokenguard mode) | measured: median (min–max) | target | | note |\n|---|---|--:|--:|:-:|---|\n")
	for _, r := range s.targets {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", cell(r.What), cell(r.Where), cell(r.Measured), cell(r.Target), r.Verdict, cell(r.Note))
	}
	b.WriteString("\n")
}

func (s *suite) phaseSection(b *strings.Builder, def phaseDef) {
	fmt.Fprintf(b, "## %s: %s\n\n", def.ID, def.Title)
	p := s.Phases[def.ID]
	if p == nil {
		fmt.Fprintf(b, "Not run (no results in `%s/%s/`).\n\n", s.Dir, def.ID)
		return
	}
	first := p.Reports[p.Scenarios[0]]
	if first.Mode == "open" {
		fmt.Fprintf(b, "Open loop, %s for %s per target run, at most %d in flight; latency from the scheduled send time; ",
			fmtRate(first.Rate), first.Duration, first.Concurrency)
	} else {
		fmt.Fprintf(b, "Closed loop, %s, %s requests per target per round; ", plural(first.Concurrency, "worker"), thousands(first.Requests))
	}
	fmt.Fprintf(b, "%s, targets interleaved; median of rounds (max: worst round); the loader's tables (`%s/<scenario>.md`). Bodies:", plural(first.Rounds, "round"), def.ID)
	for i, scen := range p.Scenarios {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(b, "%s %s `%s` (%d B)", sep, scen, p.Reports[scen].Body, p.Reports[scen].BodyBytes)
	}
	b.WriteString(".\n\n")

	open := first.Mode == "open"
	head := "| scenario | target | req/s | p50 µs | p90 µs | p99 µs | max µs | server CPU µs/req | peak RSS MB | loader CPU µs/req | allowed / denied | failures | CPU × floor | req/s × floor | p99 × floor |"
	sep := "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	if open {
		head += " late sends |"
		sep += "--:|"
	}
	fmt.Fprintf(b, "%s\n%s\n", head, sep)
	for _, scen := range p.Scenarios {
		rep := p.Reports[scen]
		for i, t := range rep.Targets {
			label := ""
			if i == 0 {
				label = scen
			}
			name := t.Name
			if isTokenguard(name) {
				name = "tokenguard (" + name + ")"
			}
			fmt.Fprintf(b, "| %s | %s | %s", cell(label), cell(name), tableFigures(t))
			if open {
				fmt.Fprintf(b, " %d |", t.Summary.Late)
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	if p.failed() {
		b.WriteString("**ERRORS — these figures are not valid:**\n\n")
		for _, scen := range p.Scenarios {
			for _, t := range p.Reports[scen].Targets {
				for _, r := range t.Runs {
					if r.failed() {
						fmt.Fprintf(b, "- %s, %s, round %d: %s\n", scen, t.Name, r.Round, problem(r))
					}
				}
			}
		}
		b.WriteString("\n")
	}
}

// tableFigures is a target's row in the loader's format (report.go
// markdown), from req/s to the ratios.
func tableFigures(t *loaderTarget) string {
	s := t.Summary
	cpu, rss := "n/a", "n/a"
	if t.PID > 0 {
		cpu = fmt.Sprintf("%.1f", s.ServerCPUus)
	}
	if s.PeakRSSMB > 0 {
		rss = fmt.Sprintf("%.1f", s.PeakRSSMB)
	}
	fail := fmt.Sprint(s.Failures)
	if s.Failures > 0 {
		fail = "**" + fail + "**"
	}
	out := fmt.Sprintf("%.0f | %.0f | %.0f | %.0f | %.0f | %s | %s | %.1f | %d / %d | %s |",
		s.ReqPerSec, s.P50us, s.P90us, s.P99us, s.MaxUs, cpu, rss, s.LoaderCPUus, s.Allowed, s.Denied, fail)
	if r := t.Ratios; r != nil {
		cpuRatio := "n/a"
		if r.ServerCPU > 0 {
			cpuRatio = fmt.Sprintf("%.2f", r.ServerCPU)
		}
		out += fmt.Sprintf(" %s | %.2f | %.2f |", cpuRatio, r.Throughput, r.P99)
	} else {
		out += " | | |"
	}
	return out
}

// problem says what went wrong in a failed run.
func problem(r *loaderRun) string {
	counts := map[string]int{"transport errors": r.Errors, "non-200": r.Non200, "bad bodies": r.BadBody}
	var p []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if counts[k] > 0 {
			p = append(p, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	if r.Answered < r.Planned {
		p = append(p, fmt.Sprintf("%d of %d answered", r.Answered, r.Planned))
	}
	if r.TimedOut {
		p = append(p, "stopped by -timeout")
	}
	if r.ServerGone {
		p = append(p, "server process gone")
	}
	if r.FirstError != "" {
		p = append(p, "first: "+r.FirstError)
	}
	return strings.Join(p, "; ")
}

func (s *suite) cachememSection(b *strings.Builder) {
	fmt.Fprintf(b, "## cachemem: tokenguard serve with cached image digests\n\n")
	c := s.Cachemem
	if c == nil {
		fmt.Fprintf(b, "Not run (no results in `%s/cachemem/`).\n\n", s.Dir)
		return
	}
	b.WriteString("`cachemem -serve <tokenguard> -images N`: its own `tokenguard serve` with registry lookups on against an " +
		"in-process registry on 127.0.0.1, one AdmissionReview per digest to /validate/warn, twice (the second pass: cache hits); " +
		"VmRSS and VmHWM from /proc (`cachemem/cachemem.md`, `.json`).\n\n")
	if c.Markdown != "" {
		b.WriteString(strings.TrimSpace(c.Markdown) + "\n\n")
	}
	if c.Result == nil {
		b.WriteString("**No cachemem.json: cachemem failed; no figures.**\n\n")
	}
}

// plural is "1 round", "3 rounds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
