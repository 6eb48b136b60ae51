package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	// No drain delay on SIGTERM here (TestServeReadinessOnShutdown covers
	// it); a test's own --shutdown-delay comes later and wins.
	p, err := e2e.NewProcess(bin, append([]string{"--shutdown-delay=0s"}, args...)...)
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

// auditFlags starts the audit sink on a free port with a bearer token;
// auditPost posts a batch to it.
func auditFlags(t *testing.T) (addr, token string, args []string) {
	t.Helper()
	addr, err := e2e.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	token = "t0ken-for-the-api-server"
	file := filepath.Join(t.TempDir(), "audit-tokens")
	if err := os.WriteFile(file, []byte("# the API server's audit webhook\n"+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return addr, token, []string{"--audit-listen", addr, "--audit-token-file", file}
}

func auditPost(t *testing.T, c *http.Client, addr, token, batch string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://"+addr+"/audit", strings.NewReader(batch))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST /audit: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeEmbeddedDefaults(t *testing.T) {
	auditAddr, token, auditArgs := auditFlags(t)
	s := startServe(t, auditArgs...)
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

	// The audit webhook backend, on its own port with a token: a
	// stale-token event becomes a metric; without the token, a 401; and it
	// is not on the admission port.
	batch := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event","auditID":"x","annotations":` +
		`{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:common:fluent-bit, seconds after warning threshold: 4185802."}}]}`
	if code := auditPost(t, s.client, auditAddr, "", batch); code != http.StatusUnauthorized {
		t.Errorf("POST /audit without a token: %d, want 401", code)
	}
	if code := auditPost(t, s.client, s.Addr, token, batch); code != http.StatusNotFound {
		t.Errorf("POST /audit on the admission port: %d, want 404", code)
	}
	if code := auditPost(t, s.client, auditAddr, token, batch); code != http.StatusOK {
		t.Fatalf("POST /audit with the token: %d", code)
	}

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

// inProcess runs serve() on free ports with a self-signed certificate until
// the returned cancel is called; done receives serve's result.
type inProcess struct {
	addr, metrics string
	cancel        func()
	done          chan error
	client        *http.Client
}

func startInProcess(t *testing.T, f serveFlags) *inProcess {
	t.Helper()
	var err error
	if f.listen, err = e2e.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	if f.metricsListen, err = e2e.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	if f.sans == "" {
		f.sans = "localhost,127.0.0.1"
	}
	if f.shutdownGrace == 0 {
		f.shutdownGrace = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &inProcess{addr: f.listen, metrics: f.metricsListen, cancel: cancel, done: make(chan error, 1),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	go func() { s.done <- serve(ctx, &f, io.Discard, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	eventuallyServe(t, "/readyz answers 200", func() bool { code, _ := tryGet("http://" + s.metrics + "/readyz"); return code == 200 })
	return s
}

func tryGet(url string) (int, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func eventuallyServe(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

func (s *inProcess) reviewCode(t *testing.T) (int, error) {
	t.Helper()
	body, err := os.ReadFile("../../test/testdata/admission/requests/pod-addon-ok.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.Post("https://"+s.addr+"/validate/enforce?timeout=5s", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestServeReadinessOnShutdown: /readyz answers 503 from the moment the
// context ends (SIGTERM) until the process stops, and the webhook keeps
// answering new reviews during --shutdown-delay (issue #13: 503 only while
// a request was in flight, then the port closed).
func TestServeReadinessOnShutdown(t *testing.T) {
	s := startInProcess(t, serveFlags{shutdownDelay: 3 * time.Second})
	if code, err := s.reviewCode(t); err != nil || code != 200 {
		t.Fatalf("review before shutdown: %d %v", code, err)
	}
	s.cancel()
	eventuallyServe(t, "/readyz answers 503", func() bool { code, _ := tryGet("http://" + s.metrics + "/readyz"); return code == 503 })
	if code, err := s.reviewCode(t); err != nil || code != 200 {
		t.Errorf("review during the shutdown delay: %d %v", code, err)
	}
	if code, err := tryGet("http://" + s.metrics + "/healthz"); err != nil || code != 200 {
		t.Errorf("/healthz during the shutdown delay: %d %v", code, err)
	}
	// Not ready at every poll until serve returns.
	for {
		select {
		case err := <-s.done:
			s.done <- err // for the cleanup
			return
		default:
		}
		if code, err := tryGet("http://" + s.metrics + "/readyz"); err == nil && code != 503 {
			t.Fatalf("/readyz answered %d during shutdown", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeConnectionLimits: idle TLS connections beyond
// --max-conns-per-client are closed at accept, those beyond
// --max-connections wait unaccepted, and the metrics listener keeps
// answering while the webhook port is full (issue #13: ~20,000 idle
// keep-alive connections stopped the webhook and /healthz).
func TestServeConnectionLimits(t *testing.T) {
	const perClient = 4
	s := startInProcess(t, serveFlags{maxConnections: 2 * perClient, maxConnsPerClient: perClient})
	// Clients on several loopback addresses (127.0.0.0/8 is all local).
	handshake := func(from string) (*tls.Conn, error) {
		d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", s.addr)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		_ = tc.SetDeadline(time.Now().Add(time.Second))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		_ = tc.SetDeadline(time.Time{})
		return tc, nil
	}
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := range perClient {
		c, err := handshake("127.0.0.2")
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		idle = append(idle, c)
	}
	// The next one from the same client is closed at once.
	if c, err := handshake("127.0.0.2"); err == nil {
		c.Close()
		t.Fatalf("connection %d from one client was served", perClient+1)
	}
	code, body := httpGet(t, "http://"+s.metrics+"/metrics")
	if code != 200 || !strings.Contains(body, "tokenguard_webhook_open_connections 4") || !strings.Contains(body, "tokenguard_webhook_connections_refused_total 1") {
		t.Errorf("/metrics: HTTP %d, connection metrics missing or wrong", code)
	}
	// A second client fills the listener; a third waits unaccepted.
	for i := range perClient {
		c, err := handshake("127.0.0.3")
		if err != nil {
			t.Fatalf("idle connection %d of the second client: %v", i, err)
		}
		idle = append(idle, c)
	}
	if c, err := handshake("127.0.0.4"); err == nil {
		c.Close()
		t.Fatal("a connection above --max-connections was served")
	}
	// The metrics port answers while the webhook port is full.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := httpGet(t, "http://"+s.metrics+path); code != 200 {
			t.Errorf("GET %s on the metrics port: HTTP %d", path, code)
		}
	}
	// A freed place is taken again.
	idle[0].Close()
	idle = idle[1:]
	eventuallyServe(t, "a connection is served after one closed", func() bool {
		c, err := handshake("127.0.0.4")
		if err != nil {
			return false
		}
		idle = append(idle, c)
		return true
	})
}

// TestServeRefusesExpiredCertificate: serve does not start on a certificate
// the API server would refuse, and says which file and when it expired.
func TestServeRefusesExpiredCertificate(t *testing.T) {
	dir := t.TempDir()
	b, err := certs.Generate([]string{"localhost"}, time.Now().Add(-48*time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteFiles(dir, b); err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, certs.CertFile)
	f := serveFlags{listen: "127.0.0.1:0", metricsListen: "127.0.0.1:0", certFile: certFile, keyFile: filepath.Join(dir, certs.KeyFile), shutdownGrace: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = serve(ctx, &f, io.Discard, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), certFile) || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "NotAfter") {
		t.Errorf("serve = %v; want a refusal naming %s and its NotAfter", err, certFile)
	}
}

// The audit sink is never served without client authentication.
func TestServeAuditSinkNeedsAuthentication(t *testing.T) {
	for _, f := range []serveFlags{
		{auditListen: "127.0.0.1:0"},
		{auditTokenFile: "tokens"},
		{auditListen: "127.0.0.1:0", auditTokenFile: filepath.Join(t.TempDir(), "missing")},
	} {
		if srv, ln, err := auditSink(context.Background(), &f, prometheus.NewRegistry(), slog.New(slog.DiscardHandler), &tls.Config{}); err == nil || srv != nil || ln != nil {
			t.Errorf("%+v: served (%v)", f, err)
		}
	}
	f := serveFlags{}
	if srv, ln, err := auditSink(context.Background(), &f, prometheus.NewRegistry(), slog.New(slog.DiscardHandler), &tls.Config{}); err != nil || srv != nil || ln != nil {
		t.Errorf("off by default: %v %v %v", srv, ln, err)
	}
}
