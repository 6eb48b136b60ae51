package auditsink

import (
	"bytes"
	"cmp"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
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

// testToken is the bearer token of the sinks newSink makes; post sends it.
const testToken = "audit-token-for-tests"

// newSink is New with testToken accepted.
func newSink(reg prometheus.Registerer, log *slog.Logger, o Options) *Sink {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	o.BearerTokens = append(o.BearerTokens, testToken)
	return New(reg, log, o)
}

func request(method, body string) *http.Request {
	r := httptest.NewRequest(method, "/audit", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+testToken)
	return r
}

func post(s *Sink, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, request(http.MethodPost, body))
	return rec
}

func TestSink(t *testing.T) {
	reg := prometheus.NewRegistry()
	logs := &bytes.Buffer{}
	s := newSink(reg, slog.New(slog.NewJSONHandler(logs, nil)), Options{MaxSubjects: 2})
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
	// The cap (2) is an LRU: a/one takes the second slot, b/two evicts
	// common/fluent-bit (seen least recently), c/three evicts a/one.
	post(s, batch(event("a", "one", 5, "p"), event("b", "two", 7, "q"), event("c", "three", 3, "r")))
	if got := series(t, reg, "tokenguard_stale_token_events_total"); strings.Join(got, " ") != "b/two c/three" {
		t.Errorf("series = %v, want b/two c/three", got)
	}
	if got := testutil.ToFloat64(s.seconds.WithLabelValues("b", "two")); got != 7 {
		t.Errorf("b/two seconds = %v", got)
	}
}

// series gathers reg (as /metrics does) and returns the "namespace/serviceaccount"
// label values of the metric name, sorted.
func series(t *testing.T, reg *prometheus.Registry, name string) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out = append(out, labels["namespace"]+"/"+labels["serviceaccount"])
		}
	}
	sort.Strings(out)
	return out
}

// TestSinkBadRequests: a batch that is not exactly one EventList within the
// bounds is refused as a whole with a 4xx (never a 5xx: the API server
// resends a batch after one) and counts nothing.
func TestSinkBadRequests(t *testing.T) {
	one := event("ns", "sa", 5, "p")
	tiny := strings.Repeat(`{},`, DefaultMaxEvents) + `{}`
	for _, tt := range []struct {
		name, method, body string
		chunked            bool // no Content-Length: only the body limit applies
		code               int
		result             string // tokenguard_audit_batches_total{result}
	}{
		{name: "not JSON", body: "{nope", code: 400, result: "malformed"},
		{name: "another kind", body: `{"kind":"Pod"}`, code: 400, result: "malformed"},
		{name: "kind not a string", body: `{"kind":7}`, code: 400, result: "malformed"},
		{name: "GET", method: http.MethodGet, code: 405},
		{name: "empty body", body: "", code: 400, result: "malformed"},
		{name: "only spaces", body: " \n\t", code: 400, result: "malformed"},
		{name: "null", body: "null", code: 400, result: "malformed"},
		{name: "array", body: "[]", code: 400, result: "malformed"},
		{name: "truncated", body: batch(one)[:40], code: 400, result: "malformed"},
		{name: "trailing garbage", body: batch(one) + " trailing", code: 400, result: "malformed"},
		{name: "a second value", body: batch(one) + batch(one), code: 400, result: "malformed"},
		{name: "items twice", body: `{"kind":"EventList","items":[],"Items":[` + one + `]}`, code: 400, result: "malformed"},
		{name: "kind twice", body: `{"kind":"EventList","kind":"EventList","items":[]}`, code: 400, result: "malformed"},
		{name: "items an object", body: `{"kind":"EventList","items":{}}`, code: 400, result: "malformed"},
		{name: "annotation not a string", body: `{"items":[{"annotations":{"authentication.k8s.io/stale-token":7}}]}`, code: 400, result: "malformed"},
		{name: "body past the limit", body: `{"kind":"EventList","items":[{"annotations":{"x":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}}]}`, code: 413, result: "too_large"},
		{name: "body past the limit, chunked", chunked: true, body: `{"kind":"EventList","items":[{"annotations":{"x":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}}]}`, code: 413, result: "too_large"},
		{name: "too many events", body: `{"kind":"EventList","items":[` + tiny + `]}`, code: 413, result: "too_large"},
		{name: "ok: trailing spaces", body: batch(one) + " \r\n", code: 200, result: "ok"},
		{name: "ok: no kind", body: `{"items":null}`, code: 200, result: "ok"},
		{name: "ok: as many events as allowed", body: `{"kind":"EventList","items":[` + strings.TrimSuffix(tiny, `,{}`) + `]}`, code: 200, result: "ok"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			s := newSink(reg, nil, Options{})
			method := cmp.Or(tt.method, http.MethodPost)
			r := request(method, tt.body)
			if tt.chunked {
				r.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, r)
			if rec.Code != tt.code {
				t.Errorf("HTTP %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.result != "" {
				if got := testutil.ToFloat64(s.batches.WithLabelValues(tt.result)); got != 1 {
					t.Errorf("batches{result=%q} = %v, want 1", tt.result, got)
				}
			}
			if tt.code != 200 {
				if got := series(t, reg, "tokenguard_stale_token_events_total"); len(got) != 0 {
					t.Errorf("a refused batch made series %v", got)
				}
			}
		})
	}
}

// TestSinkMalformedEvents: a name that is not a Kubernetes name never
// becomes a label value, implausible seconds never a gauge value; the event
// is counted as malformed and the rest of the batch counts.
func TestSinkMalformedEvents(t *testing.T) {
	for _, tt := range []struct {
		name, ns, sa string
		seconds      int64
		malformed    bool
	}{
		{name: "namespace of 254 bytes", ns: strings.Repeat("a", 254), sa: "sa", seconds: 5, malformed: true},
		{name: "namespace of 64 bytes", ns: strings.Repeat("a", 64), sa: "sa", seconds: 5, malformed: true},
		{name: "namespace of 63 bytes", ns: strings.Repeat("a", 63), sa: "sa", seconds: 5},
		{name: "service account of 254 bytes", ns: "ns", sa: strings.Repeat("a", 254), seconds: 5, malformed: true},
		{name: "service account of 253 bytes", ns: "ns", sa: strings.Repeat("a", 253), seconds: 5},
		{name: "upper case", ns: "Prod", sa: "payments", seconds: 5, malformed: true},
		{name: "dot in a namespace", ns: "a.b", sa: "payments", seconds: 5, malformed: true},
		{name: "dot in a service account", ns: "prod", sa: "a.b", seconds: 5},
		{name: "a quote", ns: `a\"b`, sa: "payments", seconds: 5, malformed: true},
		{name: "max int64 seconds", ns: "prod", sa: "payments", seconds: math.MaxInt64, malformed: true},
		{name: "ten years and a second", ns: "prod", sa: "payments", seconds: MaxSeconds + 1, malformed: true},
		{name: "ten years", ns: "prod", sa: "payments", seconds: MaxSeconds},
		{name: "negative", ns: "prod", sa: "payments", seconds: -1, malformed: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			logs := &bytes.Buffer{}
			s := newSink(reg, slog.New(slog.NewJSONHandler(logs, nil)), Options{})
			if rec := post(s, batch(event(tt.ns, tt.sa, tt.seconds, "p"), event("common", "fluent-bit", 9, "q"))); rec.Code != 200 {
				t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
			}
			want := []string{"common/fluent-bit", tt.ns + "/" + tt.sa}
			if tt.malformed {
				want = want[:1]
			}
			sort.Strings(want)
			for _, name := range []string{"tokenguard_stale_token_events_total", "tokenguard_stale_token_seconds_after_threshold"} {
				if got := series(t, reg, name); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("%s series = %.80q, want %.80q", name, got, want)
				}
			}
			if got, want := testutil.ToFloat64(s.rejected), map[bool]float64{true: 1}[tt.malformed]; got != want {
				t.Errorf("malformed annotations = %v, want %v", got, want)
			}
			if len(logs.String()) > 4096 {
				t.Errorf("%d bytes of logs for two events", logs.Len())
			}
		})
	}
}

// The API server sends each logged stage of a request as its own event, all
// annotated, and resends a batch whose delivery failed: one request counts
// once.
func TestSinkStagesAndResentBatches(t *testing.T) {
	s := newSink(nil, nil, Options{})
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
	s := newSink(nil, nil, Options{})
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
