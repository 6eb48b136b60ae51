package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// replica is one controller replica in the test: when it leads, from
// when to when.
type replica struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
}

// terms records who led when; overlapping terms would mean two leaders.
type terms struct {
	mu   sync.Mutex
	list []term
}

type term struct {
	who        string
	start, end time.Time
}

func (ts *terms) lead(who string) func(context.Context) {
	return func(ctx context.Context) {
		ts.mu.Lock()
		i := len(ts.list)
		ts.list = append(ts.list, term{who: who, start: time.Now()})
		ts.mu.Unlock()
		<-ctx.Done()
		ts.mu.Lock()
		ts.list[i].end = time.Now()
		ts.mu.Unlock()
	}
}

// first returns the first term of who, waiting up to d.
func (ts *terms) first(who string, d time.Duration) (term, bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ts.mu.Lock()
		for _, tm := range ts.list {
			if tm.who == who {
				ts.mu.Unlock()
				return tm, true
			}
		}
		ts.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	return term{}, false
}

// TestLeaderTakeover: two replicas against a real API server; one leads at
// a time. When the leader dies (its lease is left to expire, as after a
// SIGKILL), the other leads within the lease duration plus a retry
// period; when it stops cleanly (rolling restart), the other leads at once.
func TestLeaderTakeover(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	client, err := kube.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const lease, renew, retry = 3 * time.Second, 2 * time.Second, 250 * time.Millisecond
	for _, tc := range []struct {
		name    string
		release bool
		within  time.Duration
	}{
		{"leader killed: the lease expires", false, lease + 2*retry},
		{"leader stopped: the lease is released", true, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := &terms{}
			leaseName := "tokenguard-controller-" + map[bool]string{false: "kill", true: "stop"}[tc.release]
			start := func(name string) *replica {
				ctx, cancel := context.WithCancel(context.Background())
				r := &replica{name: name, cancel: cancel, done: make(chan struct{})}
				go func() {
					defer close(r.done)
					err := RunLeader(ctx, client, LeaderOptions{Namespace: "default", Name: leaseName, Identity: name,
						LeaseDuration: lease, RenewDeadline: renew, RetryPeriod: retry, ReleaseOnCancel: tc.release}, ts.lead(name))
					if err != nil {
						t.Errorf("%s: %v", name, err)
					}
				}()
				return r
			}
			a := start("replica-a")
			if _, ok := ts.first("replica-a", 10*time.Second); !ok {
				t.Fatal("replica-a never led")
			}
			b := start("replica-b")
			defer func() { b.cancel(); <-b.done }()
			time.Sleep(lease + retry) // b must not lead while a renews
			if _, ok := ts.first("replica-b", 0); ok {
				t.Fatal("replica-b led while replica-a held the lease")
			}

			killed := time.Now()
			a.cancel()
			<-a.done
			tb, ok := ts.first("replica-b", 2*lease)
			if !ok {
				t.Fatalf("replica-b did not take over within %v", 2*lease)
			}
			took := tb.start.Sub(killed)
			t.Logf("replica-b led %v after replica-a stopped (lease %v, retry %v, release on cancel %v)", took.Round(time.Millisecond), lease, retry, tc.release)
			if took > tc.within {
				t.Errorf("takeover took %v, want at most %v", took, tc.within)
			}
			ts.mu.Lock()
			defer ts.mu.Unlock()
			for i, x := range ts.list {
				for _, y := range ts.list[i+1:] {
					if x.who != y.who && (x.end.IsZero() || x.end.After(y.start)) && (y.end.IsZero() || y.end.After(x.start)) {
						t.Errorf("two leaders at once: %+v and %+v", x, y)
					}
				}
			}
		})
	}
}

func TestRunLeaderOptions(t *testing.T) {
	if err := RunLeader(context.Background(), nil, LeaderOptions{Name: "x"}, func(context.Context) {}); err == nil {
		t.Error("missing namespace and identity: no error")
	}
	if err := RunLeader(context.Background(), nil, LeaderOptions{Namespace: "n", Name: "x", Identity: "a"}, func(context.Context) {}); err == nil {
		t.Error("no client: no error")
	}
}
