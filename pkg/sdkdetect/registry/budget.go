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
		if !s.track() {
			return s.failed(ref, context.Canceled), nil
		}
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.base, s.opts.BackgroundTimeout)
		defer cancel()
		return s.lookup(ctx, ref, c), nil
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
// time it fills ev with the result; otherwise ev stays tag evidence, with
// Unavailable saying the registry was too slow. It reports whether it was.
func (s *Source) wait(b *budget, ref name.Reference, c creds, ev *policy.Evidence) bool {
	host := ref.Context().RegistryStr()
	rec, why := b.await(s.start(ref, c), host)
	if rec != nil {
		rec.fill(ev)
		return true
	}
	ev.Unavailable = why
	s.opts.Metrics.BudgetExceeded(s.hostLabel(host))
	return false
}

func slowMessage(host string, waited time.Duration) string {
	return fmt.Sprintf("registry %s did not answer within %s; the lookup goes on in the background and the next review of this image uses its result", host, fmtDuration(waited))
}

// track counts a background lookup for Close; false once closed.
func (s *Source) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}
