package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

func TestAuditUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-o", "yaml"}, `-o "yaml" is not supported; use text or json`},
		{[]string{"--fail-on", "ok"}, `--fail-on "ok" is not supported; use too-old or unknown`},
		{[]string{"-n", "a", "--all-namespaces"}, "give -n NAMESPACE or --all-namespaces, not both"},
		{[]string{"--all-namespaces=false"}, "--all-namespaces=false needs -n NAMESPACE"},
		{[]string{"--preview-mode", "warn"}, `--preview-mode "warn" is not supported; use enforce`},
		{[]string{"--preview-mode", "enforce", "--unknown", "maybe"}, `--unknown "maybe" is not supported; use allow, warn or deny`},
		{[]string{"--unknown", "deny"}, "--unknown only applies with --preview-mode enforce"},
		{[]string{"--insecure-registry", "127.0.0.1:5000"}, "--insecure-registry needs --registry"},
		{[]string{"--pull-secrets"}, "--pull-secrets needs --registry"},
		{[]string{"--cluster-version", "banana"}, "--cluster-version:"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"--stale-tokens", "/nonexistent/audit.log"}, "--stale-tokens /nonexistent/audit.log: no such file or directory"},
		{[]string{"--kubeconfig", "/nonexistent/kubeconfig"}, "--kubeconfig /nonexistent/kubeconfig:"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, "", append([]string{"audit"}, tt.args...)...)
		if code != exitUsage {
			t.Errorf("audit %q: exit %d, want %d (stderr %s)", tt.args, code, exitUsage, errOut)
		}
		if !strings.Contains(errOut, tt.want) {
			t.Errorf("audit %q: stderr %q, want it to contain %q", tt.args, errOut, tt.want)
		}
		if out != "" {
			t.Errorf("audit %q: stdout %q, want nothing", tt.args, out)
		}
	}
}

func TestAuditHelp(t *testing.T) {
	code, _, errOut := runCLI(t, "", "audit", "-h")
	if code != exitOK || !strings.Contains(errOut, "Usage: tokenguard audit [flags]") || !strings.Contains(errOut, "-stale-tokens") {
		t.Errorf("audit -h: exit %d, stderr %s", code, errOut)
	}
	code, out, _ := runCLI(t, "", "help")
	if code != exitOK || !strings.Contains(out, "tokenguard audit [flags]") {
		t.Errorf("help does not list audit:\n%s", out)
	}
}

func TestAuditNoCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	code, _, errOut := runCLI(t, "", "audit")
	if code != exitUsage || !strings.Contains(errOut, "no cluster to audit: no --kubeconfig") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestAuditUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	text := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://" + addr +
		"\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"
	if err := os.WriteFile(kc, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit", "--kubeconfig", kc},
		{"audit", "--kubeconfig", kc, "--cluster-version", "v1.30", "-n", "x"},
	} {
		code, _, errOut := runCLI(t, "", args...)
		if code != exitUsage || !strings.Contains(errOut, "API server https://"+addr) {
			t.Errorf("%q: exit %d, stderr %q; want 2 naming the server", args, code, errOut)
		}
	}
}

func auditFixture() []clusteraudit.Workload {
	old := policy.Finding{Container: "coredns", Image: "eks/coredns:v1.8.3-eksbuild.1", Component: "coredns", Kind: policy.KindAddon,
		Version: "v1.8.3-eksbuild.1", Minimum: "1.8.4", Source: "image tag", Verdict: policy.VerdictTooOld,
		Message: `would violate tokenguard "token-refresh": container "coredns" uses coredns v1.8.3-eksbuild.1 (found in image tag), minimum 1.8.4`}
	unk := policy.Finding{Container: "app", Image: "ghcr.io/acme/app:1", Kind: policy.KindSDK, Source: "none", Verdict: policy.VerdictUnknown, Message: "unknown sdk"}
	return []clusteraudit.Workload{
		{Kind: "Deployment", Namespace: "ns", Name: "dns", Pods: []string{"dns-a", "dns-b"}, Evaluated: []string{"dns-a"},
			ServiceAccounts: []string{"default"}, Findings: []policy.Finding{old}, Verdict: policy.VerdictTooOld},
		{Kind: "Pod", Namespace: "ns", Name: "app", Pods: []string{"app"}, Evaluated: []string{"app"},
			ServiceAccounts: []string{"default"}, Findings: []policy.Finding{unk}, Verdict: policy.VerdictUnknown},
	}
}

func TestAuditOutput(t *testing.T) {
	ws := auditFixture()
	subjects := []staletoken.Subject{{Subject: "system:serviceaccount:ns:default", Namespace: "ns", ServiceAccount: "default", Status: staletoken.StatusExpiring, DaysLeft: 3}}
	doc := buildAuditDoc(ws, "ns")
	st := clusteraudit.JoinStaleTokens(subjects, ws, "ns")
	doc.StaleTokens = &st
	denied := wouldBeDenied(ws, false)
	doc.WouldBeDenied = &denied

	var out, errb bytes.Buffer
	if err := writeAuditText(&out, &errb, doc, "ns"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ns         Deployment/dns",
		"system:serviceaccount:ns:default: expiring, 3 days left",
		"now: kubectl rollout restart deployment/dns -n ns",
		"fix: upgrade coredns v1.8.3-eksbuild.1 to 1.8.4 or later",
		"now: delete and recreate pod app -n ns",
		"fix: " + clusteraudit.NoTooOldFix,
		`Preview: if namespace "ns" were in enforce mode:`,
		`would be denied: Deployment/dns -n ns: violates tokenguard "token-refresh"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "would be denied: Pod/app") {
		t.Errorf("unknown denied without --unknown deny:\n%s", out.String())
	}
	if d := wouldBeDenied(ws, true); len(d) != 2 || d[1].Name != "app" || d[1].Messages[0] != "unknown sdk" {
		t.Errorf("with unknown: deny = %+v", d)
	}

	out.Reset()
	if err := writeAuditJSON(&out, doc); err != nil {
		t.Fatal(err)
	}
	rep := decodeReport(t, out.String()) // the check contract
	if len(rep.Results) != 2 || rep.Results[0].Kind != "Deployment" || rep.Results[0].Verdict != policy.VerdictTooOld || rep.Summary.TooOld != 1 {
		t.Errorf("results = %+v", rep.Results)
	}
	var extra struct {
		Results []struct {
			Pods          int      `json:"pods"`
			EvaluatedPods []string `json:"evaluatedPods"`
		} `json:"results"`
		StaleTokens []struct {
			Subject   string `json:"subject"`
			Status    string `json:"status"`
			DaysLeft  int    `json:"daysLeft"`
			RealFix   string `json:"realFix"`
			Workloads []struct {
				Kind, Namespace, Name, Restart string
			} `json:"workloads"`
		} `json:"staleTokens"`
		WouldBeDenied []struct{ Kind, Name string } `json:"wouldBeDenied"`
	}
	if err := json.Unmarshal(out.Bytes(), &extra); err != nil {
		t.Fatal(err)
	}
	if extra.Results[0].Pods != 2 || extra.Results[0].EvaluatedPods[0] != "dns-a" {
		t.Errorf("pods = %+v", extra.Results)
	}
	if len(extra.StaleTokens) != 1 || extra.StaleTokens[0].Status != "expiring" || extra.StaleTokens[0].DaysLeft != 3 ||
		len(extra.StaleTokens[0].Workloads) != 2 || extra.StaleTokens[0].Workloads[0].Restart != "kubectl rollout restart deployment/dns -n ns" {
		t.Errorf("staleTokens = %+v", extra.StaleTokens)
	}
	if len(extra.WouldBeDenied) != 1 || extra.WouldBeDenied[0].Name != "dns" {
		t.Errorf("wouldBeDenied = %+v", extra.WouldBeDenied)
	}
}

// TestAuditPullSecretsForbidden: a cluster that refuses to list secrets is
// said at once on stderr, naming what to grant, and the audit goes on
// without the pods' credentials (no hook), instead of waiting for
// informers that can never sync.
func TestAuditPullSecretsForbidden(t *testing.T) {
	var listed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		listed.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"secrets is forbidden: User \"dev\" cannot list resource \"secrets\" in API group \"\" at the cluster scope","reason":"Forbidden","code":403}`)
	}))
	defer srv.Close()
	client, err := newKubeClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	start := time.Now()
	hook, stop := auditPullSecrets(context.Background(), client, &stderr)
	stop()
	if hook != nil {
		t.Error("a hook without readable pull secrets")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: it waited for informers instead of saying so", d)
	}
	msg := stderr.String()
	for _, want := range []string{"cannot read image pull secrets", "forbidden", "list and watch on secrets and serviceaccounts"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if listed.Load() != 1 {
		t.Errorf("%d requests, want the one probe", listed.Load())
	}
}
