package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// inFlight wraps a registry handler: it counts the requests being served
// at once, and answers each after delay. The response is held back until
// the request has stopped counting, so that a client which has read a
// whole response cannot send its next request while the last one still
// counts.
type inFlight struct {
	h     http.Handler
	delay time.Duration
	now   atomic.Int64
	max   atomic.Int64
	total atomic.Int64
	on    atomic.Bool
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !f.on.Load() {
		f.h.ServeHTTP(w, req)
		return
	}
	f.total.Add(1)
	n := f.now.Add(1)
	for m := f.max.Load(); n > m && !f.max.CompareAndSwap(m, n); m = f.max.Load() {
	}
	time.Sleep(f.delay)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	f.now.Add(-1)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	if req.Method != http.MethodHead {
		w.Write(rec.Body.Bytes())
	}
}

// 200 distinct images arriving at once are all answered within the budget
// without exceeding per-registry limits. Every request of a lookup (token
// exchanges, and the tries of both schemes of a registry that may speak
// plain HTTP, too) waits for one of its host's PerRegistryConcurrency slots, so
// the registry never sees more at once (a token server on another host has
// slots of its own); the lookups that cannot finish within the budget
// answer with tag evidence and go on in the background. Only the budget's
// structural bound is asserted: how many finish with evidence depends on
// the machine (all 200 without -race here, few with it).
func TestBurstOfDistinctImages(t *testing.T) {
	const (
		images  = 200
		perHost = 8
		budget  = 2 * time.Second
		delay   = 5 * time.Millisecond
	)
	f := &inFlight{h: registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog)), delay: delay}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	r := &testRegistry{srv: srv, host: host}
	repo := r.repo(t, "acme/app")
	pushBegin := time.Now()
	var push sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range images {
		push.Add(1)
		sem <- struct{}{}
		go func() {
			defer push.Done()
			defer func() { <-sem }()
			pushImage(t, repo, fmt.Sprintf("v%d", i), map[string]string{"org.opencontainers.image.version": fmt.Sprintf("1.0.%d", i)})
		}()
	}
	push.Wait()
	if t.Failed() {
		return
	}
	t.Logf("pushed in %s", time.Since(pushBegin))
	f.on.Store(true)

	var exceeded atomic.Int64
	s := newSource(t, Options{Timeout: budget, PerRegistryConcurrency: perHost, Metrics: budgetCounter{n: &exceeded}})
	// The caller's deadline is later than the budget: the budget is what
	// bounds each call.
	ctx, cancel := context.WithTimeout(context.Background(), 4*budget)
	defer cancel()
	evs := make([]*policy.Evidence, images)
	var (
		wg       sync.WaitGroup
		returned atomic.Int64
		start    = make(chan struct{})
	)
	for i := range images {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			evs[i] = s.Evidence(ctx, policy.Puller{}, fmt.Sprintf("%s/acme/app:v%d", host, i))
			returned.Add(1)
		}()
	}
	begin := time.Now()
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Generous: the budget ends every call at 2s.
		t.Fatalf("%d of %d calls still running after %s; the budget is %s", images-int(returned.Load()), images, time.Since(begin), budget)
	}
	took := time.Since(begin)

	answered, slow := 0, 0
	for i, ev := range evs {
		switch {
		case ev.Unavailable == "":
			if want := fmt.Sprintf("1.0.%d", i); ev.Labels["org.opencontainers.image.version"] != want {
				t.Errorf("image %d: labels %v, want version %s", i, ev.Labels, want)
			}
			answered++
		case strings.Contains(ev.Unavailable, "did not answer within"):
			slow++
		default:
			t.Errorf("image %d: Unavailable = %q", i, ev.Unavailable)
		}
	}
	if int64(slow) != exceeded.Load() {
		t.Errorf("%d calls answered past the budget, %d counted by BudgetExceeded", slow, exceeded.Load())
	}
	t.Logf("%d images at once, %s per request, %d at most per registry: %d answered with evidence, %d past the %s budget; all returned in %s; %d requests so far, at most %d in flight",
		images, delay, perHost, answered, slow, budget, took.Round(time.Millisecond), f.total.Load(), f.max.Load())

	// The lookups past the budget go on in the background until Close;
	// the limit holds throughout.
	s.Close()
	if m := f.max.Load(); m > perHost {
		t.Errorf("the registry saw %d requests in flight at once, above PerRegistryConcurrency = %d", m, perHost)
	}
	if m := f.max.Load(); m < perHost {
		t.Logf("note: only %d requests in flight at most; the limit was not reached", m)
	}
}
