package workload

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// linesYAML has what moves lines around: a comment before the first
// document, a leading "---", an init container, a List, a CronJob, a
// document that starts on its "---" line, and a non-workload between.
const linesYAML = `# comment first
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - image: ghcr.io/acme/web:1.0   # image before name
        name: web
      - name: sidecar
        image: "ghcr.io/acme/sidecar:2.0"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-workload}
---
# a List of two
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: listed-pod}
  spec:
    containers:
    - name: p
      image: pod-image:1
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: nightly}
  spec:
    schedule: "@daily"
    jobTemplate:
      spec:
        template:
          spec:
            containers:
            - name: job
              image: job-image:3
--- {apiVersion: v1, kind: Pod, metadata: {name: flow}, spec: {containers: [{name: f, image: flow-image:1}]}}
`

// linesJSON is a JSON stream of two objects, tab-indented, then one whose
// "\/" escape yaml.v3 refuses: that one falls back to its first line.
const linesJSON = "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\n\t\"metadata\": {\"name\": \"j1\"},\n" +
	"\t\"spec\": {\"containers\": [\n\t\t{\"name\": \"a\",\n\t\t \"image\": \"json-a:1\"}\n\t]}\n}\n" +
	"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j2\"},\n" +
	" \"spec\": {\"containers\": [{\"name\": \"b\", \"image\": \"json-b:1\"}]}}\n" +
	"\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j3\"},\n" +
	" \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"json-c:1\", \"workingDir\": \"\\/app\"}]}}\n"

// lineWith is the 1-based line of the n-th (from 1) line of text that
// contains needle: the expectations come from the fixture's text, not
// from counting by hand.
func lineWith(t *testing.T, text, needle string, n int) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, needle) {
			if n--; n == 0 {
				return i + 1
			}
		}
	}
	t.Fatalf("no line %d with %q", n, needle)
	return 0
}

func walkLines(t *testing.T, paths []string, lines bool) []Workload {
	t.Helper()
	var ws []Workload
	err := Walk(paths, nil, Visitor{
		Lines:    lines,
		Workload: func(w Workload) error { ws = append(ws, w); return nil },
		Error:    func(e *DocError) error { t.Errorf("unexpected error: %v", e); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestLines(t *testing.T) {
	dir := t.TempDir()
	yamlPath, jsonPath := filepath.Join(dir, "m.yaml"), filepath.Join(dir, "m.json")
	if err := os.WriteFile(yamlPath, []byte(linesYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonPath, []byte(linesJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	y := func(needle string, n int) int { return lineWith(t, linesYAML, needle, n) }
	j := func(needle string) int { return lineWith(t, linesJSON, needle, 1) }
	want := map[string]string{
		"web": fmt.Sprintf("line %d images map[init:%d sidecar:%d web:%d]", y("apiVersion: apps/v1", 1),
			y("busybox:1.36", 1), y("sidecar:2.0", 1), y("ghcr.io/acme/web:1.0", 1)),
		"listed-pod": fmt.Sprintf("line %d images map[p:%d]", y("- apiVersion: v1", 1), y("pod-image:1", 1)),
		"nightly":    fmt.Sprintf("line %d images map[job:%d]", y("- apiVersion: batch/v1", 1), y("job-image:3", 1)),
		"flow":       fmt.Sprintf("line %d images map[f:%d]", y("name: flow", 1), y("name: flow", 1)),
		"j1":         fmt.Sprintf("line %d images map[a:%d]", 1, j("json-a:1")),
		"j2":         fmt.Sprintf("line %d images map[b:%d]", j(`"name": "j2"`), j("json-b:1")),
		"j3":         fmt.Sprintf("line %d images map[]", j(`"name": "j3"`)),
	}
	ws := walkLines(t, []string{yamlPath, jsonPath}, true)
	if len(ws) != len(want) {
		t.Fatalf("workloads: got %d, want %d", len(ws), len(want))
	}
	for _, w := range ws {
		if got := fmt.Sprintf("line %d images %v", w.Line, w.ImageLines); got != want[w.Name] {
			t.Errorf("%s: got %s, want %s", w.Name, got, want[w.Name])
		}
	}
	// Without Lines nothing is parsed twice, and nothing is set.
	for _, w := range walkLines(t, []string{yamlPath, jsonPath}, false) {
		if w.Line != 0 || w.ImageLines != nil {
			t.Errorf("%s: Lines off, yet line %d images %v", w.Name, w.Line, w.ImageLines)
		}
	}
}

// TestLinesStdin: standard input gets lines as a file does.
func TestLinesStdin(t *testing.T) {
	var ws []Workload
	err := Walk([]string{"-"}, strings.NewReader(linesYAML), Visitor{Lines: true,
		Workload: func(w Workload) error { ws = append(ws, w); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) == 0 || ws[0].Name != "web" || ws[0].ImageLines["sidecar"] != lineWith(t, linesYAML, "sidecar:2.0", 1) {
		t.Errorf("stdin: %+v", ws)
	}
}

// FuzzLines: on any input, Lines changes no workload but its lines, and
// every line it gives is a line of the input.
func FuzzLines(f *testing.F) {
	f.Add([]byte(linesYAML))
	f.Add([]byte(linesJSON))
	f.Add([]byte("---\n--- {kind: Pod, apiVersion: v1, spec: {containers: [{name: a, image: b}]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		read := func(lines bool) []Workload {
			var ws []Workload
			d := decoder{source: "fuzz", v: Visitor{Lines: lines, Workload: func(w Workload) error { ws = append(ws, w); return nil }}}
			d.read(bytes.NewReader(data))
			return ws
		}
		plain, located := read(false), read(true)
		if len(plain) != len(located) {
			t.Fatalf("Lines changed the workloads: %d, %d", len(plain), len(located))
		}
		n := bytes.Count(data, []byte{'\n'}) + 1
		for i := range located {
			w := located[i]
			if describe(w) != describe(plain[i]) {
				t.Fatalf("Lines changed a workload:\n%s\n%s", describe(w), describe(plain[i]))
			}
			if w.Line < 1 || w.Line > n {
				t.Fatalf("%s: line %d outside 1..%d", w.Name, w.Line, n)
			}
			for c, l := range w.ImageLines {
				if l < w.Line || l > n {
					t.Fatalf("%s: container %s: image line %d outside %d..%d", w.Name, c, l, w.Line, n)
				}
			}
		}
	})
}
