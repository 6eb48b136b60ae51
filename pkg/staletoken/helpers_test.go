package staletoken

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// readFixtures reads testdata files into one Aggregator.
func readFixtures(t *testing.T, names ...string) (*Aggregator, []FileStats, []error) {
	t.Helper()
	a := NewAggregator()
	var stats []FileStats
	var errs []error
	for _, name := range names {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		st, err := a.Read(name, f)
		f.Close()
		stats = append(stats, st)
		errs = append(errs, err)
	}
	return a, stats, errs
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// eventLine is one compact audit event line with the annotation.
func eventLine(ns, sa string, seconds int64, ts time.Time, pod string) string {
	extra := ""
	if pod != "" {
		extra = fmt.Sprintf(`,"extra":{"authentication.kubernetes.io/pod-name":[%q]}`, pod)
	}
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"get",`+
		`"user":{"username":"system:serviceaccount:%s:%s"%s},"stageTimestamp":%q,`+
		`"annotations":{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:%s:%s, seconds after warning threshold: %d"}}`,
		ns, sa, extra, ts.UTC().Format(time.RFC3339Nano), ns, sa, seconds)
}
