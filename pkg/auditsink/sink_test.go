package auditsink

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var auditIDs atomic.Int64

// event is one request's ResponseComplete event, with its own audit ID.
func event(ns, sa string, seconds int64, pod string) string {
	return stage(fmt.Sprintf("id-%d", auditIDs.Add(1)), "ResponseComplete", ns, sa, seconds, pod)
}

func stage(auditID, stage, ns, sa string, seconds int64, pod string) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":%q,"stage":%q,`+
		`"user":{"username":"system:serviceaccount:%s:%s","extra":{"authentication.kubernetes.io/pod-name":[%q]}},`+
		`"annotations":{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:%s:%s, seconds after warning threshold: %d"}}`,
		auditID, stage, ns, sa, pod, ns, sa, seconds)
}

func batch(events ...string) string {
	return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + strings.Join(events, ",") + `]}`
}

func post(s *Sink, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/audit", strings.NewReader(body)))
	return rec
}

func TestSink(t *testing.T) {
	reg := prometheus.NewRegistry()
	logs := &bytes.Buffer{}
	s := New(reg, slog.New(slog.NewJSONHandler(logs, nil)), 2)
	plain := `{"kind":"Event","annotations":{"authorization.k8s.io/decision":"allow"}}`
	bad := `{"kind":"Event","annotations":{"authentication.k8s.io/stale-token":"subject: nobody"}}`
	rec := post(s, batch(event("common", "fluent-bit", 4185802, "fluent-bit-x"), event("common", "fluent-bit", 100, "fluent-bit-y"), plain, bad))
	if rec.Code != 200 {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	if got := testutil.ToFloat64(s.events.WithLabelValues("common", "fluent-bit")); got != 2 {
		t.Errorf("events = %v, want 2", got)
	}
	if got := testutil.ToFloat64(s.seconds.WithLabelValues("common", "fluent-bit")); got != 4185802 {
		t.Errorf("seconds = %v, want the largest, 4185802", got)
	}
	if got := testutil.ToFloat64(s.rejected); got != 1 {
		t.Errorf("malformed annotations = %v", got)
	}
	if !strings.Contains(logs.String(), `"serviceAccount":"fluent-bit"`) || !strings.Contains(logs.String(), `"pod":"fluent-bit-x"`) ||
		!strings.Contains(logs.String(), `"daysLeft":41`) || !strings.Contains(logs.String(), `cannot read`) {
		t.Errorf("log:\n%s", logs)
	}
	// The cap (2): a/one takes the second slot, b/two and c/three are
	// counted as other/other.
	post(s, batch(event("a", "one", 5, "p"), event("b", "two", 7, "q"), event("c", "three", 3, "r")))
	if got := testutil.ToFloat64(s.events.WithLabelValues("a", "one")); got != 1 {
		t.Errorf("a/one = %v, want 1", got)
	}
	if got := testutil.ToFloat64(s.events.WithLabelValues("other", "other")); got != 2 {
		t.Errorf("other = %v, want 2 (cap 2 subjects)", got)
	}
	if got := testutil.ToFloat64(s.seconds.WithLabelValues("other", "other")); got != 7 {
		t.Errorf("other seconds = %v", got)
	}
}

func TestSinkBadRequests(t *testing.T) {
	s := New(prometheus.NewRegistry(), nil, 0)
	for _, tt := range []struct {
		method, body string
		code         int
	}{
		{http.MethodPost, "{nope", 400},
		{http.MethodPost, `{"kind":"Pod"}`, 400},
		{http.MethodGet, "", 405},
		{http.MethodPost, `{"kind":"EventList","items":[{"annotations":{"x":"` + strings.Repeat("a", MaxBatchBytes) + `"}}]}`, 413},
		{http.MethodPost, "", 200},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tt.method, "/audit", strings.NewReader(tt.body)))
		if rec.Code != tt.code {
			t.Errorf("%s %.20q: HTTP %d, want %d", tt.method, tt.body, rec.Code, tt.code)
		}
	}
}

// The API server sends each logged stage of a request as its own event, all
// annotated, and resends a batch whose delivery failed: one request counts
// once.
func TestSinkStagesAndResentBatches(t *testing.T) {
	s := New(prometheus.NewRegistry(), nil, 0)
	first := batch(
		stage("w1", "RequestReceived", "common", "fluent-bit", 10, "fb-0"),
		stage("w1", "ResponseStarted", "common", "fluent-bit", 10, "fb-0"),
		stage("r1", "ResponseComplete", "common", "fluent-bit", 12, "fb-1"))
	for _, body := range []string{first, first, batch(stage("w1", "ResponseComplete", "common", "fluent-bit", 10, "fb-0"))} {
		if rec := post(s, body); rec.Code != 200 {
			t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
		}
	}
	if got := testutil.ToFloat64(s.events.WithLabelValues("common", "fluent-bit")); got != 2 {
		t.Errorf("events = %v, want 2 requests", got)
	}
	if got := testutil.ToFloat64(s.seconds.WithLabelValues("common", "fluent-bit")); got != 12 {
		t.Errorf("seconds = %v", got)
	}
}

func TestDaysLeft(t *testing.T) {
	for _, tt := range []struct{ seconds, days int64 }{
		{0, 89}, {7772393, 0}, {7772392, 0}, {7772394, -1}, {7772393 + 86400, -1}, {7772393 + 86401, -2},
	} {
		if got := daysLeft(tt.seconds); got != tt.days {
			t.Errorf("daysLeft(%d) = %d, want %d", tt.seconds, got, tt.days)
		}
	}
}

// TestSinkSecondsWindow: the gauge follows the oldest token still in use.
// After the pods are restarted (fresh tokens, smaller values), the old
// token's value is gone within two windows; while an old token is still
// in use, its value stays.
func TestSinkSecondsWindow(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := New(prometheus.NewRegistry(), nil, 0)
	s.now = func() time.Time { return now }
	seconds := func() float64 { return testutil.ToFloat64(s.seconds.WithLabelValues("common", "fluent-bit")) }
	send := func(id string, v int64) {
		t.Helper()
		if rec := post(s, batch(stage(id, "ResponseComplete", "common", "fluent-bit", v, "fb-0"))); rec.Code != 200 {
			t.Fatalf("HTTP %d", rec.Code)
		}
	}
	send("a", 7_000_000) // an 81-day-old token
	send("b", 200)
	if got := seconds(); got != 7_000_000 {
		t.Fatalf("seconds = %v, want the oldest token, 7000000", got)
	}
	now = now.Add(Window + time.Minute) // the next window: the old value still counts
	send("c", 300)
	if got := seconds(); got != 7_000_000 {
		t.Errorf("one window later = %v, want 7000000 (the previous window)", got)
	}
	now = now.Add(Window) // restarted an hour ago: only fresh tokens since
	send("d", 400)
	if got := seconds(); got != 400 {
		t.Errorf("two windows later = %v, want 400: the restarted pods' old token is gone", got)
	}
	now = now.Add(3 * Window) // a long silence, then an old token again
	send("e", 7_100_000)
	send("f", 500)
	if got := seconds(); got != 7_100_000 {
		t.Errorf("after a silence = %v, want 7100000", got)
	}
}
