package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenguard/tokenguard/pkg/report"
)

// UPDATE_GOLDEN=1 go test ./cmd/webhook/ rewrites the golden files.
var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

const (
	examplesDir = "../../examples"
	corpusDir   = "../../test/testdata/manifests"
	goldenDir   = "../../test/testdata/golden"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (UPDATE_GOLDEN=1 regenerates it after review)\n--- got\n%s", path, got)
	}
}

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func decodeReport(t *testing.T, s string) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("output is not the JSON contract: %v\n%s", err, s)
	}
	return r
}

func TestCheckGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
		code   int
	}{
		{"examples json", []string{"check", "--cluster-version", "v1.30", "-o", "json", examplesDir}, "examples.json", exitFindings},
		{"examples text", []string{"check", "--cluster-version", "v1.30", examplesDir}, "examples.txt", exitFindings},
		{"corpus json", []string{"check", "-o", "json", "--cluster-version=v1.29",
			corpusDir + "/list.yaml", corpusDir + "/workloads.json", corpusDir + "/misc-kinds.yaml"}, "corpus.json", exitFindings},
		{"broken json", []string{"check", "-o", "json", corpusDir + "/broken.yaml"}, "broken.json", exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			golden(t, tt.golden, []byte(out))
		})
	}
}

func TestCheckExamplesVerdicts(t *testing.T) {
	// Independent of the golden files: the verdicts the examples promise.
	code, out, _ := runCLI(t, "", "check", "-o", "json", "--cluster-version", "v1.30", examplesDir)
	if code != exitFindings {
		t.Fatalf("exit %d", code)
	}
	r := decodeReport(t, out)
	got := map[string]string{}
	for _, res := range r.Results {
		got[res.Source[len(examplesDir)+1:]+" "+res.Kind+"/"+res.Name] = string(res.Verdict)
	}
	want := map[string]string{
		"kube-system-addons-old.yaml DaemonSet/aws-node":                          "too-old",
		"kube-system-addons-old.yaml Deployment/coredns":                          "too-old",
		"kube-system-addons-old.yaml DaemonSet/kube-proxy":                        "too-old",
		"kube-system-addons-old.yaml Deployment/alb-ingress-controller":           "too-old",
		"kube-system-addons-current.yaml DaemonSet/aws-node":                      "ok",
		"kube-system-addons-current.yaml Deployment/cni-metrics-helper":           "ok",
		"kube-system-addons-current.yaml Deployment/coredns":                      "ok",
		"kube-system-addons-current.yaml DaemonSet/kube-proxy":                    "ok",
		"kube-system-addons-current.yaml Deployment/aws-load-balancer-controller": "ok",
		"logging.yaml DaemonSet/fluent-bit":                                       "too-old",
		"logging.yaml DaemonSet/fluent-bit-current":                               "ok",
		"logging.yaml DaemonSet/fluent-bit-stable":                                "unknown",
		"logging.yaml DaemonSet/fluentd":                                          "too-old",
		"apps.yaml Deployment/orders":                                             "unknown",
		"apps.yaml StatefulSet/ledger":                                            "unknown",
		"apps.yaml Deployment/storefront":                                         "unknown",
		"apps.yaml Job/db-migrate":                                                "unknown",
		"cronjob.yaml CronJob/nightly-report":                                     "unknown",
		"no-token.yaml Pod/static-site":                                           "not-applicable",
		"token-volumes.yaml Deployment/vault-agent":                               "too-old",
		"token-volumes.yaml Pod/legacy-client":                                    "too-old",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: verdict %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d results, want %d: %v", len(got), len(want), got)
	}
	if r.Skipped["Namespace"] != 1 {
		t.Errorf("skipped = %v, want the Namespace counted", r.Skipped)
	}
}

func TestCheckBrokenKeepsOtherDocuments(t *testing.T) {
	code, out, errOut := runCLI(t, "", "check", corpusDir+"/broken.yaml", examplesDir+"/no-token.yaml")
	if code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"Deployment/first", "Pod/last", "Pod/static-site"} {
		if !strings.Contains(out, want) {
			t.Errorf("result %s hidden by the broken document:\n%s", want, out)
		}
	}
	for _, want := range []string{"broken.yaml: document 2", "broken.yaml: document 3", "no containers"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestCheckStdinAndFailOn(t *testing.T) {
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec:\n  containers:\n  - {name: app, image: ghcr.io/acme/app:1.0}\n"
	code, out, _ := runCLI(t, manifest, "check", "-o", "json", "-")
	if code != exitOK {
		t.Errorf("unknown with default --fail-on: exit %d, want 0", code)
	}
	r := decodeReport(t, out)
	if len(r.Results) != 1 || r.Results[0].Verdict != "unknown" || r.Results[0].Source != "-" {
		t.Errorf("stdin result: %+v", r.Results)
	}
	if code, _, _ := runCLI(t, manifest, "check", "--fail-on", "unknown", "-"); code != exitFindings {
		t.Errorf("--fail-on unknown: exit %d, want 1", code)
	}
	ok := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: dns, image: coredns/coredns:1.11.1}\n"
	if code, _, _ := runCLI(t, ok, "check", "--fail-on", "unknown", "-"); code != exitOK {
		t.Errorf("ok pod with --fail-on unknown: exit %d, want 0", code)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no paths", []string{"check"}, "give at least one file"},
		{"bad output", []string{"check", "-o", "yaml", "x"}, `-o "yaml" is not supported`},
		{"bad fail-on", []string{"check", "--fail-on", "ok", "x"}, `--fail-on "ok" is not supported`},
		{"bad cluster version", []string{"check", "--cluster-version", "latest", "x"}, `--cluster-version: "latest" is not a Kubernetes version`},
		{"unknown flag", []string{"check", "--colour", "x"}, "flag provided but not defined: -colour"},
		{"unknown command", []string{"chek"}, `unknown command "chek"`},
		{"missing file", []string{"check", "does-not-exist.yaml"}, "does-not-exist.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	o := fs.String("o", "text", "")
	pos, err := parseInterspersed(fs, []string{"a", "-o", "json", "-", "b", "--", "-o"})
	if err != nil {
		t.Fatal(err)
	}
	if *o != "json" || strings.Join(pos, ",") != "a,-,b,-o" {
		t.Errorf("o=%s positional=%v", *o, pos)
	}
}

// TestCheckConfig: --config applies the same catalog overrides and
// exemptions as serve, so that check agrees with admission.
func TestCheckConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "tokenguard.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\n"+
		"controlPlaneVersion: v1.30\ncatalog:\n  minimums: {coredns: \"1.9.0\"}\nexemptions:\n  namespaces: [legacy]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: dns, namespace: team}\nspec:\n  containers:\n  - {name: dns, image: coredns/coredns:1.8.4}\n" +
		"---\napiVersion: v1\nkind: Pod\nmetadata: {name: cni, namespace: legacy}\nspec:\n  containers:\n  - {name: cni, image: amazon/amazon-k8s-cni:v1.7.0}\n" +
		"---\napiVersion: v1\nkind: Pod\nmetadata: {name: proxy, namespace: team}\nspec:\n  containers:\n  - {name: proxy, image: registry.k8s.io/kube-proxy:v1.29.1}\n"
	code, out, errOut := runCLI(t, manifest, "check", "-o", "json", "--config", cfg, "-")
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	got := map[string]string{}
	for _, res := range r.Results {
		got[res.Name] = string(res.Verdict)
		if res.Name == "cni" && (len(res.Findings) != 1 || res.Findings[0].Exempt == "" || res.Findings[0].Verdict != "too-old") {
			t.Errorf("cni finding not marked exempt: %+v", res.Findings)
		}
	}
	// coredns 1.8.4 is too old under the raised minimum; the exempt namespace
	// decides nothing; kube-proxy is judged against the configured v1.30.
	want := map[string]string{"dns": "too-old", "cni": "not-applicable", "proxy": "ok"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if code, _, errOut := runCLI(t, "", "check", "--config", "missing.yaml", "-"); code != exitUsage || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("missing config: exit %d %s", code, errOut)
	}
}

// TestCheckReadsOnlyRegularFiles: issue 13's attacks on check. A FIFO or a
// link to /dev/zero among the manifests stalled CI, and links out of the
// directory given were read. They are now passed over with a note (exit
// status unchanged); a FIFO named on the command line is bad input.
func TestCheckReadsOnlyRegularFiles(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero:", err)
	}
	mkfifo, err := exec.LookPath("mkfifo")
	if err != nil {
		t.Skip("no mkfifo:", err)
	}
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  containers:\n  - {name: dns, image: coredns/coredns:1.11.1}\n"
	dir, outside := t.TempDir(), t.TempDir()
	for path, name := range map[string]string{filepath.Join(dir, "a.yaml"): "inside", filepath.Join(outside, "secret.yaml"): "outside"} {
		if err := os.WriteFile(path, []byte(fmt.Sprintf(pod, name)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if out, err := exec.Command(mkfifo, fifo).CombinedOutput(); err != nil {
		t.Skipf("mkfifo: %v %s", err, out)
	}
	for link, target := range map[string]string{"zero.yaml": "/dev/zero", "out.yaml": filepath.Join(outside, "secret.yaml")} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Skip("symlinks:", err)
		}
	}

	type outcome struct {
		code           int
		stdout, stderr string
	}
	run := func(args ...string) outcome {
		done := make(chan outcome, 1)
		go func() {
			code, out, errOut := runCLI(t, "", args...)
			done <- outcome{code, out, errOut}
		}()
		select {
		case o := <-done:
			return o
		case <-time.After(time.Minute):
			t.Fatalf("check %v hangs", args)
			return outcome{}
		}
	}

	o := run("check", "-o", "json", dir)
	if o.code != exitOK {
		t.Errorf("exit %d, want 0: %s", o.code, o.stderr)
	}
	r := decodeReport(t, o.stdout)
	if len(r.Results) != 1 || r.Results[0].Name != "inside" || len(r.Errors) != 0 {
		t.Errorf("results %+v errors %+v, want only the pod inside", r.Results, r.Errors)
	}
	for _, want := range []string{
		"tokenguard check: skipped " + fifo + ": not a regular file\n",
		"tokenguard check: skipped " + filepath.Join(dir, "zero.yaml") + ": symbolic link leads outside the directory given\n",
		"tokenguard check: skipped " + filepath.Join(dir, "out.yaml") + ": symbolic link leads outside the directory given\n",
	} {
		if !strings.Contains(o.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, o.stderr)
		}
	}

	// A device named on the command line is refused; a pipe is read like
	// stdin (check <(helm template ...)), and one without a writer is
	// empty, not a hang.
	zero := filepath.Join(dir, "zero.yaml")
	if o := run("check", zero); o.code != exitUsage || !strings.Contains(o.stderr, "error: "+zero+": not a regular file") {
		t.Errorf("check %s: exit %d, stderr %q; want 2 naming it", zero, o.code, o.stderr)
	}
	if o := run("check", fifo); o.code != exitOK {
		t.Errorf("check %s (a named pipe without a writer): exit %d, stderr %q", fifo, o.code, o.stderr)
	}
	// A link named on the command line is followed: the user asked for it.
	if o := run("check", "-o", "json", filepath.Join(dir, "out.yaml")); o.code != exitOK || decodeReport(t, o.stdout).Results[0].Name != "outside" {
		t.Errorf("named link: exit %d %s %s", o.code, o.stdout, o.stderr)
	}
}

// TestCheckStreamingMemory: check judges and writes as it reads; its heap
// does not grow with the number of documents. Before, 20 MB of small Pods
// took 693 MB (issue 13); CHECK_STREAM_MB sets the size (default 4), and
// the figures are in docs/check-streaming.md.
func TestCheckStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates megabytes of manifests")
	}
	mb := 4
	if s := os.Getenv("CHECK_STREAM_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		mb = n
	}
	path := filepath.Join(t.TempDir(), "pods.yaml")
	docs := writePods(t, path, mb<<20)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	peak := sampleHeapPeak(func() {
		code, _, errOut := runCLIDiscard(t, "check", "-o", "json", path)
		if code != exitOK {
			t.Errorf("exit %d: %.500s", code, errOut)
		}
	})
	growth := float64(peak-min(peak, base)) / (1 << 20)
	t.Logf("%d MB, %d documents: peak heap in use %.1f MiB above the %.1f MiB before", mb, docs, growth, float64(base)/(1<<20))
	// Holding every workload and result took about 4.5 KiB a document
	// (140 MiB for the default 4 MB), every result alone 48 MiB; streaming
	// holds one spool run (7 MiB for 4 MB, 10 MiB for 20 MB).
	if growth > 24 {
		t.Errorf("heap grew by %.1f MiB for %d documents: check holds what it read", growth, docs)
	}
}

// writePods writes small Pods to path until it holds size bytes; it
// returns how many.
func writePods(t testing.TB, path string, size int) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	n, written := 0, 0
	for ; written < size; n++ {
		k, _ := fmt.Fprintf(bw, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p%d\n  namespace: team\nspec:\n  containers:\n  - name: app\n    image: ghcr.io/acme/app:1.%d\n---\n", n, n%50)
		written += k
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return n
}

// runCLIDiscard runs the binary's entry point, throwing stdout away.
func runCLIDiscard(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var errb bytes.Buffer
	code := run(args, strings.NewReader(""), io.Discard, &errb)
	return code, "", errb.String()
}

// sampleHeapPeak runs fn and returns the highest HeapInuse seen meanwhile.
func sampleHeapPeak(fn func()) uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

// BenchmarkCheckJSON: check -o json over 2 MB of small Pods, with the peak
// heap in use reported.
func BenchmarkCheckJSON(b *testing.B) {
	path := filepath.Join(b.TempDir(), "pods.yaml")
	writePods(b, path, 2<<20)
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		peak = max(peak, sampleHeapPeak(func() {
			if code, _, errOut := runCLIDiscard(b, "check", "-o", "json", path); code != exitOK {
				b.Fatalf("exit %d: %.500s", code, errOut)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
