package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/tokenguard/tokenguard/pkg/certs"
	"github.com/tokenguard/tokenguard/test/e2e"
)

// buildBinary builds the tokenguard binary once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tokenguard-bin-")
	if err != nil {
		return "", err
	}
	return e2e.BuildTokenguard(dir)
})

type served struct {
	*e2e.Process
	client *http.Client
}

// startServe runs the real binary with the given extra flags and waits for
// /readyz; the process is stopped when the test ends.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	p, err := e2e.NewProcess(bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return &served{Process: p}
}

// trust returns a client trusting the PEM CA.
func trust(t *testing.T, caPEM []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("no CA in %q", caPEM)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

func (s *served) review(t *testing.T, mode, fixture string) (int, *admissionv1.AdmissionResponse) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("../../test/testdata/admission/requests", fixture+".json"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.Post("https://"+s.Addr+"/validate/"+mode+"?timeout=10s", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var review admissionv1.AdmissionReview
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(data, &review); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
	}
	return resp.StatusCode, review.Response
}

func TestServeEmbeddedDefaults(t *testing.T) {
	s := startServe(t)
	// The self-signed CA is printed for the caBundle.
	out := s.Output()
	i := strings.Index(out, "-----BEGIN CERTIFICATE-----")
	j := strings.Index(out, "-----END CERTIFICATE-----")
	if i < 0 || j < i {
		t.Fatalf("no CA bundle printed:\n%s", out)
	}
	s.client = trust(t, []byte(out[i:j+len("-----END CERTIFICATE-----\n")]))

	code, r := s.review(t, "enforce", "pod-two-too-old")
	if code != 200 || r.Allowed || r.Result == nil || r.Result.Code != 403 || !strings.HasPrefix(r.Result.Message, `violates tokenguard "token-refresh": `) {
		t.Errorf("enforce: %d %+v", code, r)
	}
	code, r = s.review(t, "warn", "pod-two-too-old")
	if code != 200 || !r.Allowed || len(r.Warnings) != 2 || !strings.HasPrefix(r.Warnings[0], "would violate") {
		t.Errorf("warn: %d %+v", code, r)
	}
	code, r = s.review(t, "audit", "pod-two-too-old")
	if code != 200 || !r.Allowed || len(r.Warnings) != 0 {
		t.Errorf("audit: %d %+v", code, r)
	}
	code, r = s.review(t, "enforce", "pod-addon-ok")
	if code != 200 || !r.Allowed {
		t.Errorf("enforce ok pod: %d %+v", code, r)
	}

	// TLS 1.1 is refused.
	old := &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}
	if conn, err := tls.Dial("tcp", s.Addr, old); err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}

	// The audit webhook backend: a stale-token event becomes a metric.
	batch := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event","auditID":"x","annotations":` +
		`{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:common:fluent-bit, seconds after warning threshold: 4185802."}}]}`
	resp, err := s.client.Post("https://"+s.Addr+"/audit", "application/json", strings.NewReader(batch))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /audit: %v %v", resp, err)
	}
	resp.Body.Close()

	// Metrics count the decisions, on the plain-HTTP port.
	metrics := []byte(s.MetricsText())
	for _, want := range []string{
		`tokenguard_admission_decisions_total{decision="denied",kind="Pod",mode="enforce",verdict="too-old"} 1`,
		`tokenguard_admission_decisions_total{decision="warned",kind="Pod",mode="warn",verdict="too-old"} 1`,
		`tokenguard_admission_decisions_total{decision="allowed",kind="Pod",mode="audit",verdict="too-old"} 1`,
		`kubewebhook_validating_webhook_review_duration_seconds_count`,
		`tokenguard_admission_request_duration_seconds_bucket`,
		`tokenguard_stale_token_seconds_after_threshold{namespace="common",serviceaccount="fluent-bit"} 4.185802e+06`,
	} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// No profiles without --profiling.
	if code, _ := httpGet(t, "http://"+s.Metrics+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ without --profiling: HTTP %d, want 404", code)
	}

	// SIGTERM: a clean exit.
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, s.Output())
	}
	if !strings.Contains(s.Output(), "admission review judged") {
		t.Errorf("no structured log line:\n%s", s.Output())
	}
}

// TestServeProfiling: --profiling serves Go's profiles on the metrics port,
// never on the webhook's.
func TestServeProfiling(t *testing.T) {
	s := startServe(t, "--profiling")
	code, body := httpGet(t, "http://"+s.Metrics+"/debug/pprof/heap?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "heap profile:") {
		t.Errorf("heap profile: HTTP %d\n%.200s", code, body)
	}
	code, body = httpGet(t, "http://"+s.Metrics+"/debug/pprof/")
	if code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("profile index: HTTP %d\n%.200s", code, body)
	}
	insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := insecure.Get("https://" + s.Addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the webhook port serves /debug/pprof/: HTTP %d", resp.StatusCode)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeCertificateFilesAndConfig(t *testing.T) {
	dir := t.TempDir()
	b, err := certs.Generate([]string{"localhost", "127.0.0.1"}, time.Now().Add(-time.Minute), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteFiles(dir, b); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\nunknown: deny\nexemptions:\n  namespaces: [kube-system]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--tls-cert-file", filepath.Join(dir, certs.CertFile), "--tls-private-key-file", filepath.Join(dir, certs.KeyFile), "--config", cfg)
	s.client = trust(t, b.CACertPEM)
	// unknown: deny denies an application image with no evidence.
	if _, r := s.review(t, "enforce", "pod-unknown"); r == nil || r.Allowed {
		t.Errorf("unknown: deny did not deny: %+v", r)
	}
	// kube-system is exempt: the too-old CNI pod is allowed.
	if _, r := s.review(t, "enforce", "pod-addon-too-old"); r == nil || !r.Allowed {
		t.Errorf("exempt namespace denied: %+v", r)
	}
}

func TestServeRefusesInvalidConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\nunknown: maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, err := e2e.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "serve", "--config", cfg, "--listen", addr, "--metrics-listen", addr).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitUsage {
		t.Fatalf("exit %v, want 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "bad.yaml") || !strings.Contains(string(out), "unknown") {
		t.Errorf("the message does not name the file and the field:\n%s", out)
	}
}
