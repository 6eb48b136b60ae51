package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The loader's -json output (test/load/loader/report.go): the fields this
// tool reads.
type loaderReport struct {
	GoVersion   string          `json:"go_version"`
	NumCPU      int             `json:"num_cpu"`
	GOMAXPROCS  int             `json:"gomaxprocs"`
	Body        string          `json:"body"`
	BodyBytes   int             `json:"body_bytes"`
	Mode        string          `json:"mode"` // closed | open
	Concurrency int             `json:"concurrency"`
	Requests    int             `json:"requests_per_round"`
	Rate        float64         `json:"rate_per_s"`
	Duration    string          `json:"duration"`
	Rounds      int             `json:"rounds"`
	Baseline    string          `json:"baseline"`
	Targets     []*loaderTarget `json:"targets"`
	Failed      bool            `json:"failed"`
}

type loaderTarget struct {
	Name    string        `json:"name"`
	URL     string        `json:"url"`
	PID     int           `json:"pid"`
	Runs    []*loaderRun  `json:"runs"`
	Summary loaderSummary `json:"summary"`
	Ratios  *loaderRatios `json:"vs_baseline"`
}

// loaderRun is one target's run in one round.
type loaderRun struct {
	Round       int     `json:"round"`
	Planned     int     `json:"planned"`
	Answered    int     `json:"answered"`
	Errors      int     `json:"errors"`
	Non200      int     `json:"non200"`
	BadBody     int     `json:"bad_body"`
	TimedOut    bool    `json:"timed_out"`
	ServerGone  bool    `json:"server_gone"`
	FirstError  string  `json:"first_error"`
	ReqPerSec   float64 `json:"req_per_s"`
	P99us       float64 `json:"p99_us"`
	ServerCPUus float64 `json:"server_cpu_us_per_req"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

func (r *loaderRun) failed() bool {
	return r.Errors+r.Non200+r.BadBody > 0 || r.TimedOut || r.ServerGone || r.Answered < r.Planned
}

type loaderSummary struct {
	ReqPerSec   float64 `json:"req_per_s"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	MaxUs       float64 `json:"max_us"`
	ServerCPUus float64 `json:"server_cpu_us_per_req"`
	LoaderCPUus float64 `json:"loader_cpu_us_per_req"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	Allowed     int     `json:"allowed"`
	Denied      int     `json:"denied"`
	Failures    int     `json:"failures"`
	Late        int     `json:"late"`
}

type loaderRatios struct {
	ServerCPU  float64 `json:"server_cpu"`
	Throughput float64 `json:"throughput"`
	P99        float64 `json:"p99"`
}

// target returns the target named name, nil when there is none.
func (rep *loaderReport) target(name string) *loaderTarget {
	for _, t := range rep.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// tokenguard is the tokenguard target: run.sh names it by its mode, the
// last element of /validate/<mode>.
func (rep *loaderReport) tokenguard() *loaderTarget {
	for _, t := range rep.Targets {
		if isTokenguard(t.Name) {
			return t
		}
	}
	return nil
}

func isTokenguard(name string) bool {
	return name == "warn" || name == "enforce" || name == "audit"
}

// server is the process behind a target name: the OPA APIs share one.
func server(name string) string {
	switch {
	case isTokenguard(name):
		return "tokenguard"
	case strings.HasPrefix(name, "opa-"):
		return "opa"
	}
	return name
}

// opaAPIs lists the OPA targets (opa-v0, opa-v1) of rep.
func (rep *loaderReport) opaAPIs() []string {
	var apis []string
	for _, t := range rep.Targets {
		if strings.HasPrefix(t.Name, "opa-") {
			apis = append(apis, t.Name)
		}
	}
	return apis
}

// The phases of a suite, in run.sh's order, with the scenarios they run by
// default.
type phaseDef struct {
	ID        string
	Title     string
	Scenarios []string
}

var (
	podScenarios = []string{"pod-allowed", "pod-denied"}
	allScenarios = []string{"pod-allowed", "pod-denied", "deployment-allowed", "deployment-denied"}
	loaderPhases = []phaseDef{
		{"c8", "closed loop, 8 connections", allScenarios},
		{"c1", "closed loop, 1 connection", podScenarios},
		{"open1000", "open loop at 1,000 req/s", podScenarios},
	}
)

// phase is one loader phase's results: one loader report per scenario.
type phase struct {
	Def       phaseDef
	Scenarios []string // in the order run.sh runs them, then others by name
	Reports   map[string]*loaderReport
}

func (p *phase) failed() bool {
	for _, rep := range p.Reports {
		if rep.Failed {
			return true
		}
	}
	return false
}

// scenarioList is def's scenarios, then any other p has, for the Targets
// rows: a scenario the phase should have run but did not shows as not run.
func (p *phase) scenarioList(def []string) []string {
	list := slices.Clone(def)
	if p != nil {
		for _, s := range p.Scenarios {
			if !slices.Contains(list, s) {
				list = append(list, s)
			}
		}
	}
	return list
}

// readPhase reads DIR/<id>/*.json; nil when there are none (not run).
func readPhase(dir string, def phaseDef) (*phase, error) {
	files, err := filepath.Glob(filepath.Join(dir, def.ID, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, err
	}
	p := &phase{Def: def, Reports: map[string]*loaderReport{}}
	for _, f := range files {
		rel := filepath.Join(def.ID, filepath.Base(f))
		rep, err := readLoaderJSON(f, rel)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		p.Reports[name] = rep
		p.Scenarios = append(p.Scenarios, name)
	}
	order := func(s string) int {
		if i := slices.Index(allScenarios, s); i >= 0 {
			return i
		}
		return len(allScenarios)
	}
	slices.SortStableFunc(p.Scenarios, func(a, b string) int {
		if d := order(a) - order(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return p, nil
}

// readLoaderJSON reads one loader -json file; errors name it as rel.
func readLoaderJSON(path, rel string) (*loaderReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep loaderReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("%s: malformed loader JSON (test/load/loader -json): %v", rel, err)
	}
	if rep.Mode == "" || len(rep.Targets) == 0 {
		return nil, fmt.Errorf("%s: not a loader result (test/load/loader -json): no mode or no targets", rel)
	}
	for _, t := range rep.Targets {
		for _, r := range t.Runs {
			if r == nil {
				return nil, fmt.Errorf("%s: malformed loader JSON: target %s has a null run", rel, t.Name)
			}
		}
	}
	return &rep, nil
}

// cachememResult is test/load/cachemem -json's output with -serve.
type cachememResult struct {
	Mode          string      `json:"mode"` // serve | in-process
	Images        int         `json:"images"`
	CacheEntries  int         `json:"cache_entries"`
	FirstPassSec  float64     `json:"first_pass_s"`
	SecondPassSec float64     `json:"second_pass_s"`
	Idle          procFigures `json:"idle"`
	AfterPass1    procFigures `json:"after_pass1"`
	AfterPass2    procFigures `json:"after_pass2"`
	CacheHits     *float64    `json:"cache_hits"`
	CacheMisses   *float64    `json:"cache_misses"`
}

type procFigures struct {
	VmRSSkB int64 `json:"vmrss_kb"`
	VmHWMkB int64 `json:"vmhwm_kb"`
}

// cachemem is the cachemem phase: its JSON and its printed Markdown.
type cachemem struct {
	Result   *cachememResult
	Markdown string
}

// readCachemem reads DIR/cachemem/cachemem.{json,md}; nil when neither is
// there (not run).
func readCachemem(dir string) (*cachemem, error) {
	var c cachemem
	md, errMD := os.ReadFile(filepath.Join(dir, "cachemem", "cachemem.md"))
	if errMD == nil {
		c.Markdown = string(md)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cachemem", "cachemem.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		if errMD != nil {
			return nil, nil
		}
		return &c, nil // printed, but no figures: cachemem failed
	case err != nil:
		return nil, err
	}
	var res cachememResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("cachemem/cachemem.json: malformed cachemem JSON (test/load/cachemem -json): %v", err)
	}
	if res.Mode == "" || res.Images == 0 {
		return nil, errors.New("cachemem/cachemem.json: not a cachemem result (test/load/cachemem -json): no mode or no images")
	}
	c.Result = &res
	return &c, nil
}

// suite is everything a summary shows.
type suite struct {
	Dir      string
	Record   *suiteRecord // nil: no suite.json
	Phases   map[string]*phase
	Cachemem *cachemem
	Written  time.Time
	targets  []targetRow // computed by evaluate
}

// load reads a suite's OUT_DIR.
func load(dir string) (*suite, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	s := &suite{Dir: dir, Phases: map[string]*phase{}}
	var err error
	if s.Record, err = readSuite(dir); err != nil {
		return nil, err
	}
	for _, def := range loaderPhases {
		p, err := readPhase(dir, def)
		if err != nil {
			return nil, err
		}
		if p != nil {
			s.Phases[def.ID] = p
		}
	}
	if s.Cachemem, err = readCachemem(dir); err != nil {
		return nil, err
	}
	s.targets = s.evaluate()
	return s, nil
}
