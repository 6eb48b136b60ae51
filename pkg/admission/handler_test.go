package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

// UPDATE_GOLDEN=1 go test ./pkg/admission/ rewrites the golden responses.
var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

const (
	requestsDir = "../../test/testdata/admission/requests"
	goldenDir   = "../../test/testdata/admission/golden"
)

// fakeExempter exempts the namespace legacy-batch and images under
// registry.example.com/legacy/.
type fakeExempter struct{}

func (fakeExempter) Namespace(ns string) string {
	if ns == "legacy-batch" {
		return `namespace "legacy-batch" is exempt by configuration`
	}
	return ""
}
func (fakeExempter) ServiceAccount(ns, sa string) string { return "" }
func (fakeExempter) Image(image string) string {
	if strings.HasPrefix(image, "registry.example.com/legacy/") {
		return `image matches "registry.example.com/legacy/*"`
	}
	return ""
}
func (fakeExempter) Component(string) string { return "" }

// sbomEvidence is the tag-only evidence of the other fixtures, plus the
// SBOM packages a registry with SPDX referrers would show for a few fixed
// application images: the AWS SDK fixtures need packages, which tags never
// give.
type sbomEvidence struct{ sdkdetect.TagOnly }

var sbomPackages = map[string]policy.Package{
	"registry.example.com/aws/go-app:v1.47.10":  {Type: "golang", Namespace: "github.com/aws", Name: "aws-sdk-go", Version: "v1.47.10"},
	"registry.example.com/aws/go-app:v1.47.11":  {Type: "golang", Namespace: "github.com/aws", Name: "aws-sdk-go", Version: "v1.47.11"},
	"registry.example.com/aws/node-app:2.524.0": {Type: "npm", Name: "aws-sdk", Version: "2.524.0"},
}

func (s sbomEvidence) Evidence(ctx context.Context, puller policy.Puller, image string) *policy.Evidence {
	ev := s.TagOnly.Evidence(ctx, puller, image)
	if p, ok := sbomPackages[image]; ok {
		p.Source = "sbom:spdx-referrer"
		ev.Packages, ev.SBOM = []policy.Package{p}, p.Source
	}
	return ev
}

type testServer struct {
	handlers map[Mode]*Handler
	reg      *prometheus.Registry
	logs     *bytes.Buffer
}

func newTestServer(t testing.TB, unknown UnknownAction) *testServer {
	t.Helper()
	c, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	logs := &bytes.Buffer{}
	r := &Reviewer{
		Engine:  engine.New(engine.Options{Catalog: c, Evidence: sbomEvidence{}, Exempter: fakeExempter{}}),
		Unknown: unknown,
		Metrics: NewMetrics(reg),
		Log:     slog.New(slog.NewJSONHandler(logs, nil)),
	}
	s := &testServer{handlers: map[Mode]*Handler{}, reg: reg, logs: logs}
	for _, m := range Modes {
		h, err := NewHandler(m, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.handlers[m] = h
	}
	return s
}

func (s *testServer) post(mode Mode, body []byte, query string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/validate/"+string(mode)+query, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	s.handlers[mode].ServeHTTP(rec, req)
	return rec
}

func TestGoldenResponses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(requestsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no request fixtures: %v", err)
	}
	configs := map[string]UnknownAction{"": UnknownAllow, "unknown-deny": UnknownDeny}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		for cfgName, unknown := range configs {
			if cfgName != "" && !strings.Contains(name, "unknown") {
				continue
			}
			s := newTestServer(t, unknown)
			for _, mode := range Modes {
				golden := name + "." + string(mode)
				if cfgName != "" {
					golden += "." + cfgName
				}
				t.Run(golden, func(t *testing.T) {
					rec := s.post(mode, body, "?timeout=10s")
					if rec.Code != http.StatusOK {
						t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
					}
					var out bytes.Buffer
					if err := json.Indent(&out, rec.Body.Bytes(), "", "  "); err != nil {
						t.Fatal(err)
					}
					out.WriteByte('\n')
					checkGolden(t, filepath.Join(goldenDir, golden+".json"), out.Bytes())
				})
			}
		}
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response differs from %s (UPDATE_GOLDEN=1 regenerates it after review)\n--- got\n%s", path, got)
	}
}

func decodeResponse(t *testing.T, rec *httptest.ResponseRecorder) *admissionv1.AdmissionResponse {
	t.Helper()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil {
		t.Fatalf("not an AdmissionReview (HTTP %d): %v\n%s", rec.Code, err, rec.Body)
	}
	if review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" || review.Response == nil {
		t.Fatalf("bad review: %+v", review)
	}
	return review.Response
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(requestsDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestModes pins the contract independently of the golden files.
func TestModes(t *testing.T) {
	s := newTestServer(t, UnknownAllow)
	tooOld := fixture(t, "pod-two-too-old")

	resp := decodeResponse(t, s.post(ModeEnforce, tooOld, ""))
	if resp.Allowed || resp.Result == nil || resp.Result.Code != 403 || resp.Result.Reason != "Forbidden" {
		t.Fatalf("enforce: %+v", resp)
	}
	msg := resp.Result.Message
	if !strings.HasPrefix(msg, `violates tokenguard "token-refresh": `) || strings.Contains(msg, "would violate") {
		t.Errorf("denial message: %s", msg)
	}
	for _, c := range []string{`container "aws-node"`, `container "coredns"`} {
		if !strings.Contains(msg, c) {
			t.Errorf("denial does not list %s: %s", c, msg)
		}
	}
	if strings.Contains(msg, `container "app"`) {
		t.Errorf("denial lists an unknown finding with unknown: allow: %s", msg)
	}
	if len(resp.Warnings) != 0 {
		t.Errorf("a denial carries warnings: %v", resp.Warnings)
	}

	resp = decodeResponse(t, s.post(ModeWarn, tooOld, ""))
	if !resp.Allowed || len(resp.Warnings) != 2 {
		t.Fatalf("warn: %+v", resp)
	}
	for _, w := range resp.Warnings {
		if !strings.HasPrefix(w, `would violate tokenguard "token-refresh": container "`) {
			t.Errorf("warning: %s", w)
		}
	}

	resp = decodeResponse(t, s.post(ModeAudit, tooOld, ""))
	if !resp.Allowed || len(resp.Warnings) != 0 || resp.Result != nil {
		t.Fatalf("audit: %+v", resp)
	}
	// Every mode counted its decision.
	for _, m := range []struct{ mode, decision string }{{"enforce", "denied"}, {"warn", "warned"}, {"audit", "allowed"}} {
		got := testutil.ToFloat64(s.handlers[ModeEnforce].metrics.decisions.WithLabelValues(m.mode, "too-old", "Pod", m.decision))
		if got != 1 {
			t.Errorf("decisions{%s,%s} = %v, want 1", m.mode, m.decision, got)
		}
	}
	// One structured log line per judged request.
	lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", len(lines), s.logs)
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"uid", "kind", "namespace", "name", "mode", "verdict", "components"} {
		if _, ok := entry[k]; !ok {
			t.Errorf("log line lacks %q: %s", k, lines[0])
		}
	}
	if entry["verdict"] != "too-old" || entry["mode"] != "enforce" || entry["namespace"] != "prod" {
		t.Errorf("log line: %s", lines[0])
	}
}

func TestUnknownActions(t *testing.T) {
	body := fixture(t, "pod-unknown")
	tests := []struct {
		unknown  UnknownAction
		mode     Mode
		allowed  bool
		warnings int
	}{
		{UnknownAllow, ModeEnforce, true, 0},
		{UnknownAllow, ModeWarn, true, 0},
		{UnknownWarn, ModeEnforce, true, 1},
		{UnknownWarn, ModeWarn, true, 1},
		{UnknownDeny, ModeEnforce, false, 0},
		{UnknownDeny, ModeWarn, true, 1},
		{UnknownDeny, ModeAudit, true, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-%s", tt.unknown, tt.mode), func(t *testing.T) {
			resp := decodeResponse(t, newTestServer(t, tt.unknown).post(tt.mode, body, ""))
			if resp.Allowed != tt.allowed || len(resp.Warnings) != tt.warnings {
				t.Errorf("allowed %v warnings %v", resp.Allowed, resp.Warnings)
			}
			if !resp.Allowed && !strings.Contains(resp.Result.Message, `violates tokenguard "token-refresh": cannot check container "orders"`) {
				t.Errorf("denial: %s", resp.Result.Message)
			}
		})
	}
}

func TestSkipped(t *testing.T) {
	s := newTestServer(t, UnknownDeny)
	for _, tt := range []struct{ fixture, reason string }{
		{"pod-delete", "operation"},
		{"pod-update", "operation"},
		{"deployment-scale", "subresource"},
		{"configmap", "kind"},
		{"deployment-update-same-images", "unchanged-policy-inputs"},
		{"pod-undecodable", "undecodable"},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			resp := decodeResponse(t, s.post(ModeEnforce, fixture(t, tt.fixture), ""))
			if !resp.Allowed || len(resp.Warnings) != 0 {
				t.Errorf("not allowed silently: %+v", resp)
			}
			if got := testutil.ToFloat64(s.handlers[ModeEnforce].metrics.skipped.WithLabelValues("enforce", tt.reason)); got < 1 {
				t.Errorf("skipped{%s} = %v", tt.reason, got)
			}
		})
	}
	if s.logs.Len() != 0 && !strings.Contains(s.logs.String(), "could not be read") {
		t.Errorf("skipped requests were logged as judged:\n%s", s.logs)
	}
}

func TestBadRequests(t *testing.T) {
	s := newTestServer(t, UnknownAllow)
	big := append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":{"x":"`),
		bytes.Repeat([]byte("a"), MaxRequestBytes)...)
	tests := []struct {
		name   string
		method string
		body   []byte
		code   int
		want   string
	}{
		{"not json", http.MethodPost, []byte("{nope"), 400, "malformed AdmissionReview"},
		{"empty", http.MethodPost, nil, 400, "malformed AdmissionReview"},
		{"wrong version", http.MethodPost, []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"1"}}`), 400, `admissionReviewVersions: ["v1"]`},
		{"no request", http.MethodPost, []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400, "has no request"},
		{"no uid", http.MethodPost, []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}`), 400, "has no uid"},
		{"too large", http.MethodPost, big, 413, "larger than"},
		{"GET", http.MethodGet, nil, 405, "by POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "/validate/enforce", bytes.NewReader(tt.body))
			s.handlers[ModeEnforce].ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.code || !strings.Contains(string(body), tt.want) {
				t.Errorf("HTTP %d %q, want %d containing %q", rec.Code, body, tt.code, tt.want)
			}
		})
	}
}

func TestRequestTimeout(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  string
	}{{"", "9s"}, {"?timeout=5s", "4.5s"}, {"?timeout=bogus", "9s"}, {"?timeout=-1s", "9s"}} {
		req := httptest.NewRequest(http.MethodPost, "/validate/warn"+tt.query, nil)
		if got := requestTimeout(req).String(); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.query, got, tt.want)
		}
	}
}

// TestConcurrentReviewsOwnTheirBodies: request bodies are read into pooled
// buffers and the object is decoded from them in place, so a buffer given
// back too early, or a decision that kept pointing into one, would answer a
// review with another's uid or verdict. Many reviews of different sizes and
// verdicts at once, each with its own uid, must each get their own answer.
func TestConcurrentReviewsOwnTheirBodies(t *testing.T) {
	s := newTestServer(t, UnknownAllow)
	type kase struct {
		body    []byte
		allowed bool
		mention string // in the denial message
	}
	var cases []kase
	for _, c := range []struct {
		name    string
		allowed bool
		mention string
	}{
		{"pod-two-too-old", false, `container "aws-node"`},
		{"pod-addon-ok", true, ""},
		{"deployment-too-old", false, "violates"},
		{"deployment-ok", true, ""},
	} {
		cases = append(cases, kase{fixture(t, c.name), c.allowed, c.mention})
	}
	const workers, each = 8, 150
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				c := cases[(w+i)%len(cases)]
				uid := fmt.Sprintf("uid-%d-%d", w, i)
				var review map[string]any
				if err := json.Unmarshal(c.body, &review); err != nil {
					errs <- err.Error()
					return
				}
				review["request"].(map[string]any)["uid"] = uid
				body, _ := json.Marshal(review)
				rec := s.post(ModeEnforce, body, "")
				var out admissionv1.AdmissionReview
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
					errs <- fmt.Sprintf("%s: HTTP %d %s", uid, rec.Code, rec.Body)
					continue
				}
				r := out.Response
				switch {
				case string(r.UID) != uid:
					errs <- fmt.Sprintf("sent uid %s, answered uid %s", uid, r.UID)
				case r.Allowed != c.allowed:
					errs <- fmt.Sprintf("%s: allowed %v, want %v", uid, r.Allowed, c.allowed)
				case !c.allowed && (r.Result == nil || !strings.Contains(r.Result.Message, c.mention)):
					errs <- fmt.Sprintf("%s: denial %+v does not mention %s", uid, r.Result, c.mention)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for e := range errs {
		if n++; n <= 5 {
			t.Error(e)
		}
	}
	if n > 5 {
		t.Errorf("... %d failures in all", n)
	}
}

// TestAWSCredentialMechanisms pins the AWS SDK fixtures apart from their
// golden files: the container's environment picks the rule (the same
// v1.47.10 image is denied with Pod Identity and allowed without AWS
// credentials), the denial names the mechanism and the version to reach,
// and a version at the minimum passes silently.
func TestAWSCredentialMechanisms(t *testing.T) {
	s := newTestServer(t, UnknownDeny)
	for _, tt := range []struct {
		fixture string
		allowed bool
		mention []string // in the denial, and in the warn-mode warning
	}{
		{"pod-aws-pod-identity-too-old", false, []string{"github.com/aws/aws-sdk-go v1.47.10", "below v1.47.11, the minimum for EKS Pod Identity", "falls back to the node's instance role"}},
		{"pod-aws-pod-identity-ok", true, nil},
		{"pod-aws-irsa-too-old", false, []string{"aws-sdk 2.524.0", "below 2.525.0, the minimum for IAM roles for service accounts (IRSA)", "falls back to the node's credentials"}},
		{"pod-aws-no-credentials", true, nil},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			body := fixture(t, tt.fixture)
			resp := decodeResponse(t, s.post(ModeEnforce, body, ""))
			if resp.Allowed != tt.allowed || len(resp.Warnings) != 0 {
				t.Fatalf("enforce: allowed %v (want %v), warnings %q, result %+v", resp.Allowed, tt.allowed, resp.Warnings, resp.Result)
			}
			warn := decodeResponse(t, s.post(ModeWarn, body, ""))
			if !warn.Allowed {
				t.Fatalf("warn mode denied: %+v", warn.Result)
			}
			if tt.allowed {
				if len(warn.Warnings) != 0 {
					t.Errorf("warn mode warns about an allowed pod: %q", warn.Warnings)
				}
				return
			}
			if len(warn.Warnings) != 1 {
				t.Fatalf("warn mode: %d warnings, want 1: %q", len(warn.Warnings), warn.Warnings)
			}
			for _, m := range tt.mention {
				if !strings.Contains(resp.Result.Message, m) {
					t.Errorf("denial does not say %q: %s", m, resp.Result.Message)
				}
				if !strings.Contains(warn.Warnings[0], m) {
					t.Errorf("warning does not say %q: %s", m, warn.Warnings[0])
				}
			}
		})
	}
}
