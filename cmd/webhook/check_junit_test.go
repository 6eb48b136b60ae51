package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/report"
)

// checkJUnit is check's JUnit XML as a reader sees it.
type checkJUnit struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		File  string `xml:"file,attr"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			File      string `xml:"file,attr"`
			Line      int    `xml:"line,attr"`
			Failure   *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, out string) checkJUnit {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(out))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
	}
	var j checkJUnit
	if err := xml.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	return j
}

// TestCheckJUnitExamples: check -o junit on examples/ has one suite per
// workload of the JSON report and one case per finding; a case fails
// exactly when its finding is at or above --fail-on (so the failures are
// what made the exit code 1), and points at the line of its container's
// image in the file given.
func TestCheckJUnitExamples(t *testing.T) {
	for _, failOn := range []policy.Verdict{policy.VerdictTooOld, policy.VerdictUnknown} {
		t.Run("fail-on "+string(failOn), func(t *testing.T) {
			args := []string{"check", "--cluster-version", "v1.30", "--fail-on", string(failOn), examplesDir}
			code, out, errOut := runCLI(t, "", append(args, "-o", "junit")...)
			jcode, jout, _ := runCLI(t, "", append(args, "-o", "json")...)
			if code != jcode {
				t.Fatalf("exit %d, -o json exits %d\n%s", code, jcode, errOut)
			}
			rep := decodeReport(t, jout)
			j := parseJUnit(t, out)
			if len(j.Suites) != len(rep.Results) {
				t.Fatalf("suites: got %d, want one per workload (%d)", len(j.Suites), len(rep.Results))
			}
			wantFailures, cases := 0, 0
			for i, res := range rep.Results {
				s := j.Suites[i]
				if !strings.HasSuffix(s.Name, "/"+res.Name) && !strings.HasSuffix(s.Name, " "+res.Name) {
					t.Errorf("suite %d: %q, want workload %s", i, s.Name, res.Name)
				}
				if len(s.Cases) != len(res.Findings) {
					t.Errorf("%s: %d cases, want one per finding (%d)", s.Name, len(s.Cases), len(res.Findings))
					continue
				}
				for k := range res.Findings {
					f, c := &res.Findings[k], s.Cases[k]
					cases++
					fails := f.Exempt == "" && f.Weight().Rank() >= failOn.Rank()
					if fails {
						wantFailures++
					}
					if (c.Failure != nil) != fails {
						t.Errorf("%s %q: failure %v, want %v (verdict %s)", s.Name, c.Name, c.Failure != nil, fails, f.Verdict)
					}
					if f.Weight() == policy.VerdictUnknown && !fails && (c.Skipped == nil || !strings.HasPrefix(c.Skipped.Message, "unknown: ")) {
						t.Errorf("%s %q: an unknown below --fail-on should be skipped: %+v", s.Name, c.Name, c.Skipped)
					}
					if !strings.Contains(c.Name, report.RuleID(f)) || c.File != res.Source {
						t.Errorf("%s %q: rule %s, file %q (want %q)", s.Name, c.Name, report.RuleID(f), c.File, res.Source)
					}
					if want := manifestLine(t, filepath.FromSlash(c.File), res.Name, f.Container); c.Line != want {
						t.Errorf("%s %q: line %d, want %d (its image)", s.Name, c.Name, c.Line, want)
					}
				}
			}
			if j.Failures != wantFailures || j.Tests != cases || (wantFailures > 0) != (code == exitFindings) {
				t.Errorf("testsuites: %d tests, %d failures; want %d, %d; exit %d", j.Tests, j.Failures, cases, wantFailures, code)
			}
		})
	}
}

// TestCheckJUnitEscapes: names and images that XML must escape come out
// as well-formed XML that reads back as written.
func TestCheckJUnitEscapes(t *testing.T) {
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec:\n  containers:\n" +
		"  - {name: app, image: \"ghcr.io/acme/a&b<c>:1.0\"}\n"
	code, out, errOut := runCLI(t, manifest, "check", "-o", "junit", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	j := parseJUnit(t, out)
	if len(j.Suites) != 1 || len(j.Suites[0].Cases) != 1 || j.Suites[0].Cases[0].Skipped == nil ||
		!strings.Contains(j.Suites[0].Cases[0].Skipped.Message, `"ghcr.io/acme/a&b<c>:1.0"`) {
		t.Errorf("escaped text did not come back:\n%s", out)
	}
	if bytes.Contains([]byte(out), []byte("a&b<c>")) {
		t.Errorf("unescaped text in the XML:\n%s", out)
	}
}
