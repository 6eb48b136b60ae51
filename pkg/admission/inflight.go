package admission

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// BodyBudget bounds the bytes of AdmissionReview bodies held at once by
// all modes' handlers together. Connections are limited (LimitListener),
// but one HTTP/2 connection carries many streams and each body may be up
// to MaxRequestBytes: without this, memory grows with concurrency × 3 MiB.
// A review waits for room until its own deadline; legitimate reviews are
// a few KB, so the budget only ever binds under a flood of huge bodies.
type BodyBudget struct {
	sem   *semaphore.Weighted
	limit int64
}

// NewBodyBudget allows limit bytes of bodies at once (at least
// MaxRequestBytes, so one maximal review always fits).
func NewBodyBudget(limit int64) *BodyBudget {
	limit = max(limit, MaxRequestBytes)
	return &BodyBudget{sem: semaphore.NewWeighted(limit), limit: limit}
}

// acquire reserves room for a body of declared length n (unknown, <= 0,
// counts as MaxRequestBytes); release gives it back. A nil budget is no
// limit.
func (b *BodyBudget) acquire(ctx context.Context, n int64) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	if n <= 0 || n > MaxRequestBytes {
		n = MaxRequestBytes
	}
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { b.sem.Release(n) }, nil
}
