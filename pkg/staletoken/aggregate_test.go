package staletoken

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readLines(t *testing.T, a *Aggregator, lines ...string) {
	t.Helper()
	st, err := a.Read("test", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil || st.Malformed != 0 {
		t.Fatalf("Read: %+v %v", st, err)
	}
}

func TestStatusBoundaries(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	const cutoff, twoWeeks = 7776000, 14 * 86400
	tests := []struct {
		name    string
		seconds int64
		status  Status
		left    int64
		days    int64
	}{
		{"exactly at the cutoff", cutoff - WarnAfterSeconds, StatusRejected, 0, 0},
		{"past the cutoff", cutoff - WarnAfterSeconds + 90000, StatusRejected, -90000, -2},
		{"one second before the cutoff", cutoff - WarnAfterSeconds - 1, StatusExpiring, 1, 0},
		{"one second under 14 days left", cutoff - WarnAfterSeconds - twoWeeks + 1, StatusExpiring, twoWeeks - 1, 13},
		{"exactly 14 days left", cutoff - WarnAfterSeconds - twoWeeks, StatusStale, twoWeeks, 14},
		{"just past the warning threshold", 1, StatusStale, cutoff - WarnAfterSeconds - 1, 89},
		{"huge", 1 << 62, StatusRejected, cutoff - (1<<62 + WarnAfterSeconds), -(1<<62 + WarnAfterSeconds - cutoff + 86399) / 86400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAggregator()
			readLines(t, a, eventLine("ns", "sa", tt.seconds, ts, ""))
			got := a.Result(Policy{})[0]
			if got.Status != tt.status || got.SecondsLeft != tt.left || got.DaysLeft != tt.days {
				t.Errorf("status %s, %d s (%d days) left; want %s, %d (%d)", got.Status, got.SecondsLeft, got.DaysLeft, tt.status, tt.left, tt.days)
			}
			if !got.AsOf.Equal(ts) {
				t.Errorf("as of %v, want the last-seen event %v", got.AsOf, ts)
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	a := NewAggregator()
	// 30 days past the threshold: 30d + 3607 s old.
	readLines(t, a, eventLine("ns", "sa", 30*86400, ts, ""))
	tests := []struct {
		name   string
		p      Policy
		status Status
		days   int64
	}{
		{"defaults", Policy{}, StatusStale, 59},
		{"shorter cutoff", Policy{MaxTokenAge: 40 * 24 * time.Hour}, StatusExpiring, 9},
		{"wider warning", Policy{WarnWithin: 60 * 24 * time.Hour}, StatusExpiring, 59},
		{"no warning", Policy{WarnWithin: -1, MaxTokenAge: 31 * 24 * time.Hour}, StatusStale, 0},
		{"now, 50 days later", Policy{Now: ts.Add(50 * 24 * time.Hour)}, StatusExpiring, 9},
		{"now, 60 days later", Policy{Now: ts.Add(60 * 24 * time.Hour)}, StatusRejected, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.Result(tt.p)[0]
			if got.Status != tt.status || got.DaysLeft != tt.days {
				t.Errorf("status %s, %d days left; want %s, %d", got.Status, got.DaysLeft, tt.status, tt.days)
			}
		})
	}
}

// The age is that of the largest value, carried forward to the last-seen
// event when a later event shows a younger token (e.g. another pod).
func TestAgeCarriedToLastSeen(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	a := NewAggregator()
	readLines(t, a,
		eventLine("ns", "sa", 50*86400, ts, "old"),
		eventLine("ns", "sa", 100, ts.Add(5*24*time.Hour), "new"),
		eventLine("ns", "sa", 10*86400, ts.Add(-24*time.Hour), "older-event"),
	)
	got := a.Result(Policy{})[0]
	wantAge := int64(55*86400 + WarnAfterSeconds)
	if got.TokenAgeSeconds != wantAge || !got.MaxSeenAt.Equal(ts) || !got.AsOf.Equal(ts.Add(5*24*time.Hour)) {
		t.Errorf("age %d as of %v (max at %v), want %d", got.TokenAgeSeconds, got.AsOf, got.MaxSeenAt, wantAge)
	}
	if !got.FirstSeen.Equal(ts.Add(-24*time.Hour)) || got.Events != 3 {
		t.Errorf("first seen %v, %d events", got.FirstSeen, got.Events)
	}
}

func TestSortOrder(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	a := NewAggregator()
	readLines(t, a,
		eventLine("b", "stale-far", 100, ts, ""),
		eventLine("a", "stale-far", 100, ts, ""),
		eventLine("x", "stale-near", 60*86400, ts, ""),
		eventLine("x", "expiring-far", 80*86400, ts, ""),
		eventLine("x", "expiring-near", 85*86400, ts, ""),
		eventLine("z", "rejected-late", 90*86400, ts, ""),
		eventLine("y", "rejected-early", 95*86400, ts, ""),
	)
	var got []string
	for _, s := range a.Result(Policy{}) {
		got = append(got, fmt.Sprintf("%s %s/%s", s.Status, s.Namespace, s.ServiceAccount))
	}
	want := []string{
		"rejected y/rejected-early", "rejected z/rejected-late",
		"expiring x/expiring-near", "expiring x/expiring-far",
		"stale x/stale-near", "stale a/stale-far", "stale b/stale-far",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order\n got %q\nwant %q", got, want)
	}
}

func TestPods(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	a := NewAggregator()
	var lines []string
	for i := 25; i >= 1; i-- { // reverse order: the listing is order-independent
		for j := 0; j < 2; j++ { // each pod twice
			lines = append(lines, eventLine("ns", "sa", int64(i), ts, fmt.Sprintf("pod-%02d", i)))
		}
	}
	lines = append(lines, eventLine("ns", "sa", 1, ts, "")) // no pod name
	readLines(t, a, lines...)
	got := a.Result(Policy{})[0]
	want := []string{"pod-01", "pod-02", "pod-03", "pod-04", "pod-05", "pod-06", "pod-07", "pod-08", "pod-09", "pod-10"}
	if !reflect.DeepEqual(got.Pods, want) || got.MorePods != 15 || got.Events != 51 {
		t.Errorf("pods %v + %d more, %d events", got.Pods, got.MorePods, got.Events)
	}
	// The count of distinct names is bounded.
	a = NewAggregator()
	lines = lines[:0]
	for i := 0; i < maxPodsCounted+500; i++ {
		lines = append(lines, eventLine("ns", "sa", 1, ts, fmt.Sprintf("p-%05d", i)))
	}
	readLines(t, a, lines...)
	got = a.Result(Policy{})[0]
	if len(got.Pods) != DefaultMaxPods || got.MorePods != maxPodsCounted-DefaultMaxPods {
		t.Errorf("%d pods + %d more", len(got.Pods), got.MorePods)
	}
}

func TestResultIsACopy(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	a := NewAggregator()
	readLines(t, a, eventLine("ns", "sa", 1, ts, "p1"))
	r := a.Result(Policy{})
	r[0].Pods[0] = "changed"
	if a.Result(Policy{})[0].Pods[0] != "p1" {
		t.Error("Result shares its pod slice with the aggregate")
	}
}
