package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/report"
	"github.com/tokenguard/tokenguard/pkg/report/sariftest"
	"github.com/tokenguard/tokenguard/pkg/reports"
)

// checkSARIF is the part of check's SARIF log the tests read.
type checkSARIF struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				Rules   []struct {
					ID   string `json:"id"`
					Help struct {
						Text string `json:"text"`
					} `json:"help"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful        bool `json:"executionSuccessful"`
			ToolExecutionNotifications []struct {
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name string `json:"name"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			Properties struct {
				Verdict   string `json:"verdict"`
				Container string `json:"container"`
				Image     string `json:"image"`
				Workload  string `json:"workload"`
			} `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func validSARIF(t *testing.T, log string) checkSARIF {
	t.Helper()
	if err := sariftest.Validate([]byte(log)); err != nil {
		t.Fatalf("not valid SARIF 2.1.0: %v\n%s", err, log)
	}
	var l checkSARIF
	if err := json.Unmarshal([]byte(log), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("runs: %d", len(l.Runs))
	}
	return l
}

// manifestLine is where a finding of workload's container should point,
// found in the manifest's text rather than by the reader under test: the
// first "image:" line after the container's "- name: <container>" line
// after the workload's "metadata:\n  name: <workload>" lines; with no
// container, the object's first line (its "apiVersion:").
func manifestLine(t *testing.T, path, workload, container string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	name := regexp.MustCompile(`^\s+name:\s*` + regexp.QuoteMeta(workload) + `\s*$`)
	ctr := regexp.MustCompile(`^\s*-\s+name:\s*` + regexp.QuoteMeta(container) + `\s*(#.*)?$`)
	img := regexp.MustCompile(`^\s*image:`)
	for i := 1; i < len(lines); i++ {
		if !name.MatchString(lines[i]) || strings.TrimSpace(lines[i-1]) != "metadata:" {
			continue
		}
		if container == "" {
			for j := i - 1; j >= 0; j-- {
				if strings.HasPrefix(lines[j], "apiVersion:") {
					return j + 1
				}
			}
		}
		for j := i + 1; j < len(lines); j++ {
			if !ctr.MatchString(lines[j]) {
				continue
			}
			for k := j + 1; k < len(lines); k++ {
				if img.MatchString(lines[k]) {
					return k + 1
				}
			}
		}
	}
	t.Fatalf("%s: no container %q in workload %s", path, container, workload)
	return 0
}

// workloadOf is the name in "Kind namespace/name".
func workloadOf(s string) string {
	s = s[strings.IndexByte(s, ' ')+1:]
	return s[strings.LastIndexByte(s, '/')+1:]
}

// expectedLevel is the SARIF level of a finding of the JSON report, ""
// for none: that both renderings come from one evaluation is the point.
func expectedLevel(f *policy.Finding) string {
	switch f.Weight() {
	case policy.VerdictTooOld:
		return "error"
	case policy.VerdictUnknown:
		return "warning"
	}
	return ""
}

// TestCheckSARIFExamples: check -o sarif on examples/ is valid SARIF
// 2.1.0 whose results are the JSON report's findings that need attention
// (rule id = component, level from the verdict), each pointing at its
// manifest by the path given and at the line of its container's image;
// every rule it names is described in tool.driver.rules.
func TestCheckSARIFExamples(t *testing.T) {
	code, out, errOut := runCLI(t, "", "check", "--cluster-version", "v1.30", "-o", "sarif", examplesDir)
	jcode, jout, _ := runCLI(t, "", "check", "--cluster-version", "v1.30", "-o", "json", examplesDir)
	if code != jcode || code != exitFindings {
		t.Fatalf("exit %d, -o json exits %d, want %d; stderr:\n%s", code, jcode, exitFindings, errOut)
	}
	l := validSARIF(t, out)
	run := l.Runs[0]
	if run.Tool.Driver.Name != "tokenguard" || run.Tool.Driver.Version != version {
		t.Errorf("driver %q %q, want tokenguard %q", run.Tool.Driver.Name, run.Tool.Driver.Version, version)
	}
	if len(run.Invocations) != 1 || !run.Invocations[0].ExecutionSuccessful {
		t.Errorf("invocations: %+v", run.Invocations)
	}

	type key struct{ workload, container, rule, level string }
	want := map[key]int{}
	for _, res := range decodeReport(t, jout).Results {
		for i := range res.Findings {
			f := &res.Findings[i]
			if lvl := expectedLevel(f); lvl != "" {
				want[key{res.Name, f.Container, report.RuleID(f), lvl}]++
			}
		}
	}
	got := map[key]int{}
	rules := run.Tool.Driver.Rules
	for _, r := range run.Results {
		got[key{workloadOf(r.Properties.Workload), r.Properties.Container, r.RuleID, r.Level}]++
		if r.RuleIndex < 0 || r.RuleIndex >= len(rules) || rules[r.RuleIndex].ID != r.RuleID || rules[r.RuleIndex].Help.Text == "" {
			t.Errorf("%s: ruleIndex %d does not point at a described rule", r.RuleID, r.RuleIndex)
		}
		loc := r.Locations[0].PhysicalLocation
		if loc == nil || loc.Region == nil {
			t.Errorf("%s %s: no file or line: %+v", r.Properties.Workload, r.RuleID, r.Locations)
			continue
		}
		uri := loc.ArtifactLocation.URI
		if !strings.HasPrefix(uri, examplesDir+"/") {
			t.Errorf("uri %q is not the path given (%s/...)", uri, examplesDir)
		}
		if wantLine := manifestLine(t, filepath.FromSlash(uri), workloadOf(r.Properties.Workload), r.Properties.Container); loc.Region.StartLine != wantLine {
			t.Errorf("%s %s in %s: line %d, want %d (its image)", r.Properties.Workload, r.RuleID, uri, loc.Region.StartLine, wantLine)
		}
	}
	if len(got) == 0 || len(run.Results) < 10 {
		t.Fatalf("only %d results", len(run.Results))
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%+v: %d results, want %d (as -o json)", k, got[k], n)
		}
	}
	for k, n := range got {
		if want[k] != n {
			t.Errorf("%+v: %d results, -o json has %d such findings", k, n, want[k])
		}
	}
	var levels []string
	for k := range got {
		levels = append(levels, k.level)
	}
	if !strings.Contains(strings.Join(levels, " "), "error") || !strings.Contains(strings.Join(levels, " "), "warning") {
		t.Errorf("the examples should give both levels: %v", levels)
	}
}

// TestCheckCIFormatsExitCodes: the output format never changes the exit
// code (DESIGN.md): 0, 1 at or above --fail-on, 2 for bad input, which the
// run's stderr names by file and document.
func TestCheckCIFormatsExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		errs []string
	}{
		{"findings", []string{"--cluster-version", "v1.30", examplesDir}, exitFindings, nil},
		{"clean", []string{examplesDir + "/kube-system-addons-current.yaml", "--cluster-version", "v1.30"}, exitOK, nil},
		{"unknown below fail-on", []string{examplesDir + "/apps.yaml"}, exitOK, nil},
		{"unknown at fail-on", []string{"--fail-on", "unknown", examplesDir + "/apps.yaml"}, exitFindings, nil},
		{"bad input", []string{corpusDir + "/broken.yaml"}, exitUsage, []string{"broken.yaml: document 2", "broken.yaml: document 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, format := range []string{"text", "json", "sarif", "junit"} {
				code, out, errOut := runCLI(t, "", append([]string{"check", "-o", format}, tt.args...)...)
				if code != tt.code {
					t.Errorf("-o %s: exit %d, want %d\n%s", format, code, tt.code, errOut)
				}
				for _, e := range tt.errs {
					if format != "json" && !strings.Contains(errOut, e) {
						t.Errorf("-o %s: stderr lacks %q:\n%s", format, e, errOut)
					}
					if format != "text" && !strings.Contains(out, e) {
						t.Errorf("-o %s: output lacks %q", format, e)
					}
				}
				if format == "sarif" {
					l := validSARIF(t, out)
					if inv := l.Runs[0].Invocations[0]; inv.ExecutionSuccessful != (tt.errs == nil) {
						t.Errorf("executionSuccessful %v with errors %v", inv.ExecutionSuccessful, tt.errs)
					}
				}
			}
		})
	}
}

// TestCheckCIFormatsStdin: read from stdin, results have no file (there
// is none to annotate) but still say which workload.
func TestCheckCIFormatsStdin(t *testing.T) {
	manifest, err := os.ReadFile(filepath.Join(examplesDir, "token-volumes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, string(manifest), "check", "-o", "sarif", "-")
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	l := validSARIF(t, out)
	if len(l.Runs[0].Results) == 0 {
		t.Fatal("no results")
	}
	for _, r := range l.Runs[0].Results {
		if loc := r.Locations[0]; loc.PhysicalLocation != nil || len(loc.LogicalLocations) != 1 || loc.LogicalLocations[0].Name == "" {
			t.Errorf("stdin result %s: %+v", r.RuleID, loc)
		}
	}
	code, out, _ = runCLI(t, string(manifest), "check", "-o", "junit", "-")
	if code != exitFindings || !strings.Contains(out, `<testsuite name="Deployment `) || strings.Contains(out, `file="-"`) {
		t.Errorf("junit from stdin: exit %d\n%s", code, out)
	}
}

// TestCheckCIFormatsStreamingMemory: with -o sarif and -o junit, which
// read lines and go over the results twice, check's heap still does not
// grow with the number of documents (see TestCheckStreamingMemory).
func TestCheckCIFormatsStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates megabytes of manifests")
	}
	path := filepath.Join(t.TempDir(), "pods.yaml")
	docs := writePods(t, path, 4<<20)
	for _, format := range []string{"sarif", "junit"} {
		base := heapInUse()
		peak := sampleHeapPeak(func() {
			code, _, errOut := runCLIDiscard(t, "check", "-o", format, "--fail-on", "unknown", path)
			if code != exitFindings {
				t.Errorf("-o %s: exit %d: %.500s", format, code, errOut)
			}
		})
		growth := float64(peak-min(peak, base)) / (1 << 20)
		t.Logf("-o %s, %d documents: peak heap in use %.1f MiB above the %.1f MiB before", format, docs, growth, float64(base)/(1<<20))
		// About 14 MiB here; holding every result would take 48 MiB or
		// more. The bound leaves room for what earlier tests of the
		// package (registries, layer scans) still allocate.
		if growth > 32 {
			t.Errorf("-o %s: heap grew by %.1f MiB for %d documents", format, growth, docs)
		}
	}
}

// TestRuleClientSDKEvidence: SARIF and JUnit name the findings without a
// catalog rule as the OpenReports reports do.
func TestRuleClientSDKEvidence(t *testing.T) {
	if report.RuleClientSDKEvidence != reports.RuleClientSDKEvidence {
		t.Errorf("report says %q, reports %q", report.RuleClientSDKEvidence, reports.RuleClientSDKEvidence)
	}
}

// heapInUse is the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
