package auditsink

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// forged is a batch of n stale-token events of distinct made-up service
// accounts.
func forged(prefix string, n int) string {
	events := make([]string, n)
	for i := range events {
		events[i] = event(fmt.Sprintf("%s-%d", prefix, i), "sa", 100, "p")
	}
	return batch(events...)
}

// TestSinkForgedAccountsCannotHoldTheCap: a batch of 1,000 forged service
// accounts fills the cap, but a real one seen afterwards gets its own
// series at once (the forged account seen least recently loses its own),
// and series not seen for SubjectTTL leave /metrics without a new batch.
func TestSinkForgedAccountsCannotHoldTheCap(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	reg := prometheus.NewRegistry()
	s := newSink(reg, nil, Options{now: func() time.Time { return now }})
	if rec := post(s, forged("forged", DefaultMaxSubjects)); rec.Code != 200 {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	if got := len(series(t, reg, "tokenguard_stale_token_events_total")); got != DefaultMaxSubjects {
		t.Fatalf("%d series, want the cap, %d", got, DefaultMaxSubjects)
	}

	now = now.Add(time.Minute)
	if rec := post(s, batch(event("prod", "payments", 4_000_000, "payments-0"))); rec.Code != 200 {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	if got := testutil.ToFloat64(s.events.WithLabelValues("prod", "payments")); got != 1 {
		t.Errorf("prod/payments events = %v, want 1 under its own labels", got)
	}
	got := series(t, reg, "tokenguard_stale_token_seconds_after_threshold")
	if len(got) != DefaultMaxSubjects {
		t.Errorf("%d series, want the cap, %d", len(got), DefaultMaxSubjects)
	}
	for _, sub := range got {
		if sub == "forged-0/sa" || strings.HasPrefix(sub, "other/") {
			t.Errorf("series %s: the least recently seen forged account should have been evicted", sub)
		}
	}

	// prod/payments keeps being seen; the forged accounts are not: past
	// SubjectTTL they leave /metrics, even before the next batch.
	now = now.Add(DefaultSubjectTTL - time.Minute)
	post(s, batch(event("prod", "payments", 4_000_100, "payments-1")))
	now = now.Add(2 * time.Minute)
	for _, name := range []string{"tokenguard_stale_token_events_total", "tokenguard_stale_token_seconds_after_threshold"} {
		if got := series(t, reg, name); strings.Join(got, " ") != "prod/payments" {
			t.Errorf("%s after SubjectTTL: %d series %.60q, want prod/payments", name, len(got), got)
		}
	}
	if got := testutil.ToFloat64(s.events.WithLabelValues("prod", "payments")); got != 2 {
		t.Errorf("prod/payments events = %v, want 2", got)
	}
	now = now.Add(DefaultSubjectTTL)
	if got := series(t, reg, "tokenguard_stale_token_events_total"); len(got) != 0 {
		t.Errorf("silent for SubjectTTL, still %q", got)
	}
}

func TestSubjects(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	var dropped []string
	s := newSubjects(2, time.Hour, func(sub *subject) { dropped = append(dropped, sub.key.namespace) })
	s.touch(subjectKey{"a", "x"}, t0)
	s.touch(subjectKey{"b", "x"}, t0.Add(time.Minute))
	s.touch(subjectKey{"a", "x"}, t0.Add(2*time.Minute)) // a is now the most recent
	s.touch(subjectKey{"c", "x"}, t0.Add(3*time.Minute)) // evicts b
	if strings.Join(dropped, " ") != "b" || s.len() != 2 {
		t.Fatalf("dropped %v, %d left; want b dropped, 2 left", dropped, s.len())
	}
	s.expire(t0.Add(time.Hour + 2*time.Minute)) // a seen at +2m: expires at +62m
	if strings.Join(dropped, " ") != "b a" || s.len() != 1 {
		t.Fatalf("dropped %v, %d left; want a expired, 1 left", dropped, s.len())
	}
	s.expire(t0.Add(time.Hour + 2*time.Minute + 59*time.Second))
	if s.len() != 1 {
		t.Fatalf("c expired before its TTL")
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{SubjectTTL: time.Minute}.withDefaults()
	if o.SubjectTTL != MinSubjectTTL || o.MaxBodyBytes != DefaultMaxBodyBytes || o.MaxEvents != DefaultMaxEvents || o.MaxSubjects != DefaultMaxSubjects {
		t.Errorf("defaults: %+v", o)
	}
	if o := (Options{}).withDefaults(); o.SubjectTTL != DefaultSubjectTTL {
		t.Errorf("SubjectTTL = %v", o.SubjectTTL)
	}
}
