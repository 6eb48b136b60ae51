package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
