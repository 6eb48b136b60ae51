// Command summary renders the results of a load-test suite
// (test/load/run.sh with SUITE=1, which test/load/peers.sh and make
// loadtest-peers turn on; issue #8) as one Markdown page,
// OUT_DIR/summary.md, and prints it: the machine, the command and settings
// that reproduce the run, the Targets of issue #8 with ✓ or ✗, and every
// phase's table.
//
// run.sh calls it twice:
//
//	summary -init -script test/load/peers.sh -given K=V ... -set K=V ... OUT_DIR
//
// at the start of the suite, which records the machine (Go version,
// GOMAXPROCS and CPUs, CPU model from /proc/cpuinfo, kernel from uname, the
// date) and the settings in OUT_DIR/suite.json; -given are the settings
// given in the environment (they make the command line), -set all the
// effective ones. And at the end:
//
//	summary [-check] OUT_DIR
//
// which reads suite.json, the loader's JSON of every phase
// (OUT_DIR/{c8,c1,open1000}/<scenario>.json, test/load/loader -json) and
// cachemem's (OUT_DIR/cachemem/cachemem.json, test/load/cachemem -json), and
// writes OUT_DIR/summary.md. A phase without results is reported as not run.
//
// The Targets are ratios computed per round against the same round's floor
// (or tokenguard), since the loader interleaves the targets round by round:
// the table shows the median over the rounds and the min–max, and judges
// the median. The per-phase tables are the loader's own (medians over
// rounds, ratios of those medians).
//
// Exit status: 0; 1 a result file is unreadable or malformed (the error names
// it); 2 usage; 3 with -check, a target was missed.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// kvList is a repeatable KEY=VALUE flag, in order.
type kvList []setting

func (l *kvList) String() string { return fmt.Sprint(*l) }

func (l *kvList) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	*l = append(*l, setting{Key: k, Value: v})
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	initSuite := fs.Bool("init", false, "record the machine and the settings in OUT_DIR/suite.json (at the start of a suite)")
	script := fs.String("script", "test/load/peers.sh", "-init: the script that ran the suite")
	var given, set kvList
	fs.Var(&given, "given", "-init: a `KEY=VALUE` given in the environment, for the command line (repeatable)")
	fs.Var(&set, "set", "-init: an effective setting `KEY=VALUE` (repeatable)")
	check := fs.Bool("check", false, "exit 3 when a target is missed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: summary -init [-script S] [-given K=V]... [-set K=V]... OUT_DIR\n       summary [-check] OUT_DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	dir := fs.Arg(0)
	if *initSuite {
		rec := &suiteRecord{
			Started: time.Now().UTC(), Script: *script, Given: given, Settings: set,
			Machine: readMachine(),
		}
		if err := writeSuite(dir, rec); err != nil {
			fmt.Fprintln(stderr, "summary:", err)
			return 1
		}
		return 0
	}
	s, err := load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "summary:", err)
		return 1
	}
	s.Written = time.Now().UTC()
	page := s.markdown()
	out := filepath.Join(dir, "summary.md")
	if err := os.WriteFile(out, []byte(page), 0o644); err != nil {
		fmt.Fprintln(stderr, "summary:", err)
		return 1
	}
	fmt.Fprint(stdout, page)
	met, missed, unjudged := s.count()
	fmt.Fprintf(stderr, "summary: %s: targets met %d, missed %d, not judged %d\n", out, met, missed, unjudged)
	if *check && missed > 0 {
		return 3
	}
	return 0
}
