package charts

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValuesTableUpToDate: the values table of charts/tokenguard/README.md
// is what values.yaml's comments generate.
func TestValuesTableUpToDate(t *testing.T) {
	values, err := os.ReadFile(filepath.Join(ChartDir(), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := ValuesDocs(values)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(ChartDir(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := WithValuesTable(readme, ValuesTable(docs))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readme, want) {
		t.Error("the values table of charts/tokenguard/README.md is out of date with values.yaml: run `go generate ./charts/` (or make chart)")
	}
}

// TestValuesDocumented: every key of values.yaml has a comment, or sits
// under a documented key whose default shows it; and the generator reads
// the comments as documentation (a sample of keys and words).
func TestValuesDocumented(t *testing.T) {
	values, err := os.ReadFile(filepath.Join(ChartDir(), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	missing, err := Undocumented(values)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range missing {
		t.Errorf("values.yaml: %s has no comment above it (its documentation in README.md)", k)
	}
	docs, err := ValuesDocs(values)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]ValueDoc{}
	for _, d := range docs {
		byKey[d.Key] = d
	}
	for key, want := range map[string]struct{ def, word string }{
		"mode":                        {`"warn"`, "cluster default"},
		"replicas":                    {"3", "Two or more"},
		"resources":                   {`{"limits":{"memory":"256Mi"},"requests":{"cpu":"100m","memory":"64Mi"}}`, "GOMEMLIMIT"},
		"certManager.enabled":         {"false", "cert-manager"},
		"selfSigned.renewal":          {`""`, "--set selfSigned.renewal="},
		"config":                      {"", "TokenGuardConfiguration"},
		"config.unknown":              {`"allow"`, "allow | warn | deny"},
		"controller.replicas":         {"2", "standby"},
		"monitoring.dashboard.labels": {`{"grafana_dashboard":"1"}`, "Grafana"},
	} {
		d, ok := byKey[key]
		if !ok {
			t.Errorf("%s is not documented", key)
			continue
		}
		if d.Default != want.def || !strings.Contains(d.Description, want.word) {
			t.Errorf("%s: default %s, description %q; want %s and %q", key, d.Default, d.Description, want.def, want.word)
		}
	}
	// The generator is held to what it is for: a missing comment is found.
	if got, _ := Undocumented([]byte("# documented\na: 1\nb: 2\nc:\n  # documented\n  d: 1\n  e: 2\n")); strings.Join(got, ",") != "b,c.e" {
		t.Errorf("Undocumented found %v, want [b c.e]", got)
	}
}

// TestCopiesOfDeploy: the chart's copies of deploy/ files (the Grafana
// dashboard, the alerts, the CRDs) are identical to deploy's, so that
// `kubectl apply -k` and `helm install` ship the same ones.
func TestCopiesOfDeploy(t *testing.T) {
	for _, c := range Copies {
		stale, err := c.Stale()
		if err != nil {
			t.Fatal(err)
		}
		if stale {
			t.Errorf("%s differs from %s: run `go generate ./charts/` (or cp %s %s)", c.Chart, c.Deploy, c.Deploy, c.Chart)
		}
	}
	// Every file the chart reads with .Files is one of them.
	files, err := filepath.Glob(filepath.Join(ChartDir(), "files", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	top, _ := filepath.Glob(filepath.Join(ChartDir(), "files", "*.*"))
	for _, f := range append(files, top...) {
		rel, _ := filepath.Rel(RepoRoot(), f)
		known := false
		for _, c := range Copies {
			known = known || c.Chart == rel
		}
		if !known {
			t.Errorf("%s is not a copy of a deploy/ file (charts.Copies)", rel)
		}
	}
}
