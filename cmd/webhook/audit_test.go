package main

import (
	"bytes"
	"context"
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
		{[]string{"--scan-layers"}, "--scan-layers reads layers from registries: add --registry"},
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
	hook, stop := auditPullSecrets(context.Background(), &rest.Config{Host: srv.URL}, client, &stderr)
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
