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

// wait starts (or joins) the lookup of ref and waits for it at most the
// budget or until ctx ends. On time it fills ev with the result; otherwise
// ev stays tag evidence, with Unavailable saying the registry was too slow.
func (s *Source) wait(ctx context.Context, ref name.Reference, c creds, ev *policy.Evidence) *policy.Evidence {
	begin := time.Now()
	ch := s.start(ref, c)
	timer := time.NewTimer(s.opts.Timeout)
	defer timer.Stop()
	select {
	case res := <-ch:
		return res.Val.(*record).fill(ev)
	case <-timer.C:
		ev.Unavailable = slowMessage(ref, s.opts.Timeout)
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			ev.Unavailable = slowMessage(ref, time.Since(begin))
		} else {
			ev.Unavailable = fmt.Sprintf("the lookup in registry %s was cancelled before it ended", ref.Context().RegistryStr())
		}
	}
	s.opts.Metrics.BudgetExceeded(ref.Context().RegistryStr())
	return ev
}

func slowMessage(ref name.Reference, waited time.Duration) string {
	return fmt.Sprintf("registry %s did not answer within %s; the lookup goes on in the background and the next review of this image uses its result", ref.Context().RegistryStr(), fmtDuration(waited))
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
