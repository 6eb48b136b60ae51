package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/singleflight"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// start begins the lookup of ref with credentials c unless one is under way, and returns the
// channel its result will be sent on. The lookup runs detached from any
// caller, bounded by BackgroundTimeout and by Close.
func (s *Source) start(ref name.Reference, c creds) <-chan singleflight.Result {
	key := c.scoped(refKey(ref))
	return s.flight.DoChan(key, func() (any, error) {
		if rec, ok := s.begin(ref); !ok {
			return rec, nil
		}
		defer s.untrack(ref.Context().RegistryStr())
		ctx, cancel := context.WithTimeout(s.base, s.opts.BackgroundTimeout)
		defer cancel()
		rec := s.lookup(ctx, ref, c)
		if s.scanner.wants(rec) {
			// The image's files are read next, whoever asks for them:
			// the review that started the lookup may have stopped waiting.
			s.startScan(ref.Context(), rec, c)
		}
		return rec, nil
	})
}

// budget is the time one Evidence call waits: Options.Timeout from its
// start, or the caller's deadline if sooner. Its lookups (the image's, and
// the tag's beside a digest) share it.
type budget struct {
	ctx     context.Context
	begin   time.Time
	timeout time.Duration
	over    chan struct{} // closed at the timeout
	stop    func() bool
}

func (s *Source) newBudget(ctx context.Context) *budget {
	b := &budget{ctx: ctx, begin: time.Now(), timeout: s.opts.Timeout, over: make(chan struct{})}
	b.stop = time.AfterFunc(b.timeout, func() { close(b.over) }).Stop
	return b
}

// await waits for ch within the budget: the result, or why there is none.
func (b *budget) await(ch <-chan singleflight.Result, host string) (*record, string) {
	select {
	case res := <-ch:
		return res.Val.(*record), ""
	case <-b.over:
		return nil, slowMessage(host, b.timeout)
	case <-b.ctx.Done():
		if b.ctx.Err() == context.DeadlineExceeded {
			return nil, slowMessage(host, time.Since(b.begin))
		}
		return nil, fmt.Sprintf("the lookup in registry %s was cancelled before it ended", host)
	}
}

// wait starts (or joins) the lookup of ref and waits for it within b. On
// time it fills ev with the result and returns it; otherwise ev stays tag
// evidence, with Unavailable saying the registry was too slow. It reports
// whether it was on time.
func (s *Source) wait(b *budget, ref name.Reference, c creds, ev *policy.Evidence) (*record, bool) {
	host := ref.Context().RegistryStr()
	rec, why := b.await(s.start(ref, c), host)
	if rec != nil {
		rec.fill(ev)
		return rec, true
	}
	ev.Unavailable = why
	s.opts.Metrics.BudgetExceeded(s.hostLabel(host))
	return nil, false
}

func slowMessage(host string, waited time.Duration) string {
	return fmt.Sprintf("registry %s did not answer within %s; the lookup goes on in the background and the next review of this image uses its result", host, fmtDuration(waited))
}

// track counts a background lookup for Close; false once closed.
func (s *Source) track(host string) trackResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return trackClosed
	}
	if s.lookups[host] >= s.opts.MaxLookupsPerRegistry || s.lookupsAll >= s.opts.MaxLookupsPerRegistry*maxBusyRegistries {
		return trackBusy
	}
	if s.lookups == nil {
		s.lookups = map[string]int{}
	}
	s.lookups[host]++
	s.lookupsAll++
	s.wg.Add(1)
	return trackOK
}

// untrack ends a lookup that track let start.
func (s *Source) untrack(host string) {
	s.mu.Lock()
	if s.lookups[host]--; s.lookups[host] <= 0 {
		delete(s.lookups, host)
	}
	s.lookupsAll--
	s.mu.Unlock()
	s.wg.Done()
}

// trackResult says whether a lookup may start.
type trackResult int

const (
	trackOK trackResult = iota
	// trackClosed: the source is closed.
	trackClosed
	// trackBusy: the registry has MaxLookupsPerRegistry lookups under way
	// (it is slow or down), or all registries together have
	// maxBusyRegistries times that.
	trackBusy
)

// maxBusyRegistries times MaxLookupsPerRegistry bounds the lookups under
// way for all registries together.
const maxBusyRegistries = 8

// busy is the answer for a lookup that was not started because its
// registry has too many under way already. It is not cached: the next
// review tries again.
func (s *Source) busy(ref name.Reference) *record {
	host := ref.Context().RegistryStr()
	return &record{
		unavailable: fmt.Sprintf("registry %s has %d lookups under way already (it is slow or down); this image is looked up when they end", host, s.opts.MaxLookupsPerRegistry),
		reason:      ReasonBusy,
	}
}

// begin admits a lookup of ref: ok, or the record to answer with instead.
func (s *Source) begin(ref name.Reference) (*record, bool) {
	switch s.track(ref.Context().RegistryStr()) {
	case trackClosed:
		return s.failed(ref, context.Canceled), false
	case trackBusy:
		s.opts.Metrics.LookupDone(s.hostLabel(ref.Context().RegistryStr()), ReasonBusy, 0)
		return s.busy(ref), false
	}
	return nil, true
}
