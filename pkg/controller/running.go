package controller

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/imageevidence"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Running is an evidence source that remembers the manifest digests of the
// images looked up through it: during a pass, the images that run.
type Running struct {
	next engine.EvidenceSource

	mu   sync.Mutex
	seen map[string]bool
}

// NewRunning looks images up with next.
func NewRunning(next engine.EvidenceSource) *Running {
	return &Running{next: next, seen: map[string]bool{}}
}

// Evidence implements engine.EvidenceSource.
func (r *Running) Evidence(ctx context.Context, puller policy.Puller, image string) *policy.Evidence {
	ev := r.next.Evidence(ctx, puller, image)
	if ev != nil && ev.Digest != "" {
		r.mu.Lock()
		r.seen[ev.Digest] = true
		r.mu.Unlock()
	}
	return ev
}

// Prefetch implements engine.Prefetcher when the next source does.
func (r *Running) Prefetch(ctx context.Context, puller policy.Puller, images ...string) {
	if p, ok := r.next.(engine.Prefetcher); ok {
		p.Prefetch(ctx, puller, images...)
	}
}

// Take returns the digests seen since the last Take.
func (r *Running) Take() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.seen
	r.seen = make(map[string]bool, len(seen))
	return seen
}

// EvidenceKeeper keeps the cluster's ImageEvidence objects in step with
// what runs: after a pass, the objects of the digests the pass looked up
// are marked running (at most once per MarkEvery), and objects of digests
// not seen running for TTL are deleted.
type EvidenceKeeper struct {
	Store   *imageevidence.Store
	Running *Running
	// TTL defaults to imageevidence.DefaultTTL; MarkEvery to one hour.
	TTL, MarkEvery time.Duration
}

// Keep marks and deletes; it does nothing while the store is off.
func (k *EvidenceKeeper) Keep(ctx context.Context) (marked, deleted int, err error) {
	running := k.Running.Take()
	if !k.Store.Enabled() {
		return 0, 0, nil
	}
	every := k.MarkEvery
	if every <= 0 {
		every = time.Hour
	}
	digests := make([]string, 0, len(running))
	for d := range running {
		digests = append(digests, d)
	}
	slices.Sort(digests)
	marked, err = k.Store.MarkRunning(ctx, digests, every)
	deleted, derr := k.Store.DeleteStale(ctx, running, k.TTL)
	if err == nil {
		err = derr
	}
	return marked, deleted, err
}
