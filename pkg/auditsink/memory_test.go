package auditsink

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// heap is the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSinkHugeNamespace: eight POSTs of one event with a 30 MiB namespace
// (761 MB RSS and a 503 MB /metrics before the limits) are refused, with or
// without a Content-Length, and leave nothing behind.
func TestSinkHugeNamespace(t *testing.T) {
	body := batch(event(strings.Repeat("a", 30<<20), "sa", 5, "p"))
	reg := prometheus.NewRegistry()
	s := newSink(reg, nil, Options{})
	before := heap()
	for i := range 8 {
		r := request(http.MethodPost, body)
		if i%2 == 1 {
			r.ContentLength = -1 // chunked: the body limit, not the header, refuses it
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		if rec.Code != http.StatusRequestEntityTooLarge && rec.Code != http.StatusBadRequest {
			t.Fatalf("POST %d: HTTP %d, want 413 or 400", i, rec.Code)
		}
	}
	if grown := int64(heap()) - int64(before); grown > 2<<20 {
		t.Errorf("the heap grew by %d bytes", grown)
	}
	runtime.KeepAlive(s)
	if got := series(t, reg, "tokenguard_stale_token_events_total"); len(got) != 0 {
		t.Errorf("series %.40q", got)
	}

	// With a body limit that lets it through, the event is malformed: the
	// namespace is never a label value.
	reg = prometheus.NewRegistry()
	s = newSink(reg, nil, Options{MaxBodyBytes: 64 << 20})
	if rec := post(s, body); rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d", rec.Code)
	}
	if got := series(t, reg, "tokenguard_stale_token_events_total"); len(got) != 0 {
		t.Errorf("series %.40q", got)
	}
}

// TestSinkManySmallEvents: batch after batch of the most events allowed,
// each a distinct service account with the longest names allowed, keep the
// sink's memory bounded: MaxSubjects series, and the audit IDs of recent
// requests.
func TestSinkManySmallEvents(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newSink(reg, nil, Options{})
	ns, sa := strings.Repeat("n", 55), strings.Repeat("s", 253)
	before := heap()
	for b := range 20 {
		events := make([]string, DefaultMaxEvents)
		for i := range events {
			events[i] = event(fmt.Sprintf("%s-%07d", ns, b*DefaultMaxEvents+i), sa, int64(i), "pod")
		}
		if rec := post(s, batch(events...)); rec.Code != http.StatusOK {
			t.Fatalf("batch %d: HTTP %d: %s", b, rec.Code, rec.Body)
		}
	}
	if got := len(series(t, reg, "tokenguard_stale_token_events_total")); got != DefaultMaxSubjects {
		t.Errorf("%d series, want %d", got, DefaultMaxSubjects)
	}
	grown := int64(heap()) - int64(before)
	runtime.KeepAlive(s)
	t.Logf("heap grown by %d bytes after 20,000 events", grown)
	if grown > 4<<20 {
		t.Errorf("the heap grew by %d bytes after 20,000 events of distinct service accounts", grown)
	}
}
