package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		in               []float64
		med, lo, hi      float64
		n                int
		formatted, limit string
	}{
		{[]float64{1.3, 1.1, 1.2}, 1.2, 1.1, 1.3, 3, "1.20 (1.10–1.30)", ""},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4, 4, "2.50 (1.00–4.00)", ""},
		{[]float64{0.5}, 0.5, 0.5, 0.5, 1, "0.50 (1 round)", ""},
	}
	for _, tt := range tests {
		s := spreadOf(tt.in)
		if s.Median != tt.med || s.Min != tt.lo || s.Max != tt.hi || s.N != tt.n {
			t.Errorf("spreadOf(%v) = %+v; want median %v, %v–%v, n %d", tt.in, s, tt.med, tt.lo, tt.hi, tt.n)
		}
		if got := s.format(nil); got != tt.formatted {
			t.Errorf("spreadOf(%v).format = %q; want %q", tt.in, got, tt.formatted)
		}
	}
	if s := spreadOf(nil); s.N != 0 {
		t.Errorf("spreadOf(nil) = %+v; want N 0", s)
	}
}

func TestLimitBoundaries(t *testing.T) {
	tests := []struct {
		l    *limit
		v    float64
		want bool
	}{
		{limitVsFloor, 1.2, true},
		{limitVsFloor, math.Nextafter(1.2, 2), false},
		{limitVsFloor, 240.0 / 200.0, true}, // the ratio as computed
		{limitPSA, 1.5, true},
		{limitPSA, math.Nextafter(1.5, 0), false},
		{limitOPA, 2.5, true},
		{limitOPA, 2.49, false},
		{limitP99, 2, true},
		{limitP99, 2.001, false},
		{limitRSS, 40960.0 / 1024, true},
		{limitRSS, 40961.0 / 1024, false},
	}
	for _, tt := range tests {
		if got := tt.l.ok(tt.v); got != tt.want {
			t.Errorf("%s ok(%v) = %v; want %v", tt.l, tt.v, got, tt.want)
		}
	}
	if got := limitPSA.String(); got != "≥ 1.5" {
		t.Errorf("limitPSA = %q", got)
	}
	if got := limitRSS.String(); got != "≤ 40 MB" {
		t.Errorf("limitRSS = %q", got)
	}
}

func TestFmtValue(t *testing.T) {
	tests := []struct {
		v    float64
		l    *limit
		want string
	}{
		{1.2, limitVsFloor, "1.20"},
		{1.204, limitVsFloor, "1.204"}, // not "1.20" next to a ✗
		{1.19, limitVsFloor, "1.19"},
		{1.4999, limitPSA, "1.4999"},
		{1.4999, nil, "1.50"},
		{40961.0 / 1024, limitRSS, "40.001"},
	}
	for _, tt := range tests {
		if got := fmtValue(tt.v, tt.l); got != tt.want {
			t.Errorf("fmtValue(%v, %v) = %q; want %q", tt.v, tt.l, got, tt.want)
		}
	}
}

func TestPerRound(t *testing.T) {
	num := &loaderTarget{Runs: []*loaderRun{
		{Round: 1, ServerCPUus: 110}, {Round: 2, ServerCPUus: 240}, {Round: 3, ServerCPUus: 130}, {Round: 4, ServerCPUus: 50},
	}}
	den := &loaderTarget{Runs: []*loaderRun{ // out of order; no round 4; round 3 not measured
		{Round: 2, ServerCPUus: 200}, {Round: 1, ServerCPUus: 100}, {Round: 3, ServerCPUus: 0},
	}}
	got := perRound(num, den, cpuPerReq)
	want := []float64{1.1, 1.2}
	if len(got) != len(want) {
		t.Fatalf("perRound = %v; want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("perRound = %v; want %v", got, want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q; want %q", n, got, want)
		}
	}
}

// row finds the Targets row with what and a where that starts with where.
func row(t *testing.T, s *suite, what, where string) targetRow {
	t.Helper()
	for _, r := range s.targets {
		if r.What == what && strings.HasPrefix(r.Where, where) {
			return r
		}
	}
	t.Fatalf("no Targets row %q at %q", what, where)
	return targetRow{}
}

func TestSuiteTargets(t *testing.T) {
	s, err := load("testdata/suite")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		what, where, measured string
		v                     verdict
		note                  string
	}{
		// Per round 1.1, 1.2, 1.3 (the floor's runs stored out of order): the
		// median 1.2 is on the boundary. The ratio of the medians would be 1.3.
		{"tokenguard CPU/request ÷ floor's", "c8 · pod-allowed (warn)", "1.20 (1.10–1.30)", met, ""},
		{"tokenguard CPU/request ÷ floor's", "c8 · pod-denied (enforce)", "1.21 (1.21–1.21)", missed, ""},
		{"tokenguard CPU/request ÷ floor's", "c8 · deployment-allowed (warn)", "1.00 (1.00–1.00)", met, ""},
		{"tokenguard CPU/request ÷ floor's", "c8 · deployment-denied", "not run", notJudged, "scenario not run"},
		{"PSA CPU/request ÷ tokenguard's", "c8 · pod-allowed", "1.50 (1.50–1.50)", met, ""},
		{"PSA CPU/request ÷ tokenguard's", "c8 · pod-denied", "1.496 (1.496–1.496)", missed, ""},
		{"PSA CPU/request ÷ tokenguard's", "c8 · deployment-allowed", "0.90 (0.90–0.90)", notJudged, "PSA does not evaluate Deployments (enforces on Pods only): not counted"},
		{"OPA (opa-v0) CPU/request ÷ tokenguard's", "c8 · pod-allowed", "2.50 (2.50–2.50)", met, ""},
		{"OPA (opa-v0) CPU/request ÷ tokenguard's", "c8 · pod-denied", "2.48 (2.48–2.48)", missed, ""},
		{"OPA (opa-v1) CPU/request ÷ tokenguard's", "c8 · pod-allowed", "2.50 (2.49–2.50)", met, ""},
		{"OPA (opa-v1) CPU/request ÷ tokenguard's", "c8 · pod-denied", "not run", notJudged, "no opa-v1 target in this run"},
		{"OPA (opa-v1) CPU/request ÷ tokenguard's", "c8 · deployment-allowed", "4.00 (4.00–4.00)", met, ""},
		// Round 3's floor has no p99: the median of the two others, 1.9 and 2.1.
		{"tokenguard p99 ÷ floor's, open loop", "open1000 · pod-allowed (warn)", "2.00 (1.90–2.10)", met, ""},
		{"tokenguard p99 ÷ floor's, open loop", "open1000 · pod-denied (enforce)", "9.00 (9.00–9.00)", notJudged, "measured open loop at 500 req/s; the target is at 1,000 req/s: not judged"},
		{"tokenguard serve VmRSS, cached digests, after the 2nd pass", "cachemem · 10,000 digests", "40.00 MB", met, ""},
		{"tokenguard serve VmHWM (peak), cached digests, after the 2nd pass", "cachemem · 10,000 digests", "40.001 MB", missed, ""},
		{"tokenguard p99 ÷ floor's, c=1", "c1", "not run", info, "phase c1 not run"},
		{"peak RSS (VmHWM), opa", "c8", "20.0 MB", info, ""},
	}
	for _, tt := range tests {
		r := row(t, s, tt.what, tt.where)
		if r.Measured != tt.measured || r.Verdict != tt.v || (tt.note != "" && r.Note != tt.note) {
			t.Errorf("%s, %s: got %q %v (note %q); want %q %v (note %q)", tt.what, tt.where, r.Measured, r.Verdict, r.Note, tt.measured, tt.v, tt.note)
		}
	}
	met, missed, unjudged := s.count()
	if met != 9 || missed != 4 || unjudged != 7 {
		t.Errorf("count = %d met, %d missed, %d not judged; want 9, 4, 7", met, missed, unjudged)
	}

	md := s.markdown()
	for _, want := range []string{
		"SUITE_PHASES=\"c8 open1000 cachemem\" OPA_API=\"v0 v1\" ./test/load/peers.sh",
		"| CPU | Test CPU (2 processors in /proc/cpuinfo) |",
		"| TOKENGUARD_ARGS | (empty) |",
		"**9 met, 4 missed, 7 not judged**",
		"| c8 · pod-allowed (warn) | 1.20 (1.10–1.30) | ≤ 1.2 | ✓ |",
		"| c8 · pod-denied (enforce) | 1.21 (1.21–1.21) | ≤ 1.2 | ✗ |",
		// The phase table is the loader's: its ratio of the medians.
		"|  | tokenguard (warn) | 1000 | 500 | 800 | 1000 | 2000 | 130.0 | 20.0 | 50.0 | 300 / 0 | 0 | 1.30 | 1.00 | 1.00 |",
		"## c1: closed loop, 1 connection\n\nNot run",
		"| after a second pass (cache hits) | 40.0 | 40.0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestFailedRunNotJudged(t *testing.T) {
	s, err := load("testdata/failed")
	if err != nil {
		t.Fatal(err)
	}
	r := row(t, s, "tokenguard CPU/request ÷ floor's", "c8 · pod-allowed")
	if r.Verdict != notJudged || !strings.Contains(r.Note, "errors") {
		t.Errorf("a run with errors: got %v %q; want not judged, a note about errors", r.Verdict, r.Note)
	}
	if md := s.markdown(); !strings.Contains(md, "- pod-allowed, warn, round 2: 10 transport errors; 90 of 100 answered; first: connection refused") {
		t.Errorf("markdown does not list the failed run:\n%s", md)
	}
}

func TestNothingRun(t *testing.T) {
	s, err := load(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if met, missed, _ := s.count(); met != 0 || missed != 0 {
		t.Errorf("count = %d met, %d missed; want none", met, missed)
	}
	for _, r := range s.targets {
		if r.Measured != "not run" {
			t.Errorf("row %s at %s: %q; want not run", r.What, r.Where, r.Measured)
		}
	}
	md := s.markdown()
	for _, want := range []string{"## c8: closed loop, 8 connections\n\nNot run", "## cachemem: tokenguard serve with cached image digests\n\nNot run", "Unknown: no suite.json"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestMalformed(t *testing.T) {
	for dir, want := range map[string]string{
		"testdata/malformed":   "c8/pod-allowed.json: malformed loader JSON",
		"testdata/notloader":   "c1/pod-denied.json: not a loader result",
		"testdata/badcachemem": "cachemem/cachemem.json: malformed cachemem JSON",
	} {
		_, err := load(dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("load(%s) = %v; want an error with %q", dir, err, want)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{copySuite(t, "testdata/malformed")}, new(bytes.Buffer), &stderr); code != 1 || !strings.Contains(stderr.String(), "c8/pod-allowed.json") {
		t.Errorf("run on a malformed file: status %d, stderr %q; want 1 and the file named", code, stderr.String())
	}
}

// copySuite copies a testdata suite to a temporary directory, since run
// writes summary.md into it.
func copySuite(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "out")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestRunCheck(t *testing.T) {
	dir := copySuite(t, "testdata/suite")
	var stdout, stderr bytes.Buffer
	if code := run([]string{dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; want 0 (a missed target is reported, not an error): %s", code, stderr.String())
	}
	written, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil || !bytes.Equal(written, stdout.Bytes()) {
		t.Errorf("summary.md (%v) differs from what was printed", err)
	}
	if code := run([]string{"-check", dir}, new(bytes.Buffer), new(bytes.Buffer)); code != 3 {
		t.Errorf("run -check with missed targets = %d; want 3", code)
	}
	if code := run([]string{"-check", t.TempDir()}, new(bytes.Buffer), new(bytes.Buffer)); code != 0 {
		t.Errorf("run -check with nothing run = %d; want 0 (not run is not missed)", code)
	}
	if code := run(nil, new(bytes.Buffer), new(bytes.Buffer)); code != 2 {
		t.Errorf("run without OUT_DIR = %d; want 2", code)
	}
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-init", "-script", "test/load/peers.sh", "-given", "SUITE_PHASES=c8 c1", "-given", "C8_N=300",
		"-given", "TOKENGUARD_ARGS=--log-level $X", "-set", "C8_ROUNDS=2", dir}
	if code := run(args, new(bytes.Buffer), new(bytes.Buffer)); code != 0 {
		t.Fatalf("run -init = %d", code)
	}
	rec, err := readSuite(dir)
	if err != nil || rec == nil {
		t.Fatalf("readSuite = %v, %v", rec, err)
	}
	if got, want := rec.command(), `SUITE_PHASES="c8 c1" C8_N=300 TOKENGUARD_ARGS='--log-level $X' ./test/load/peers.sh`; got != want {
		t.Errorf("command = %s; want %s", got, want)
	}
	if rec.setting("C8_ROUNDS") != "2" || rec.Machine.GoVersion == "" || rec.Machine.NumCPU == 0 {
		t.Errorf("suite.json = %+v", rec)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"300": "300", "c8 c1": `"c8 c1"`, "": `""`, "it's": `"it's"`, `a"b $c`: `'a"b $c'`, "x'$": `'x'\''$'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s; want %s", in, got, want)
		}
	}
}
