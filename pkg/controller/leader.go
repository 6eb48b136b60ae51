// Package controller is `tokenguard controller`: it keeps every running
// workload's report current (docs/notes/controller-design.md). This file
// holds its leader election: two replicas run, one works at a time, the
// other takes over within the lease duration when the leader dies.
package controller

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Lease timings: a dead leader is replaced within LeaseDuration (plus one
// RetryPeriod); a leader that cannot renew for RenewDeadline stops working.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// LeaseClient reads and writes the Lease: *kube.Client. (client-go's
// tools/leaderelection would link the whole generated clientset into the
// binary, which pkg/kube exists to avoid; the protocol below is the same:
// a holder renews spec.renewTime, others take over once they have seen no
// change for the lease duration, and every write is conditional on the
// resourceVersion read.)
type LeaseClient interface {
	GetLease(ctx context.Context, namespace, name string) (*coordinationv1.Lease, error)
	CreateLease(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error)
	UpdateLease(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error)
}

// LeaderOptions say which Lease to hold and as whom.
type LeaderOptions struct {
	// Namespace and Name of the coordination.k8s.io/v1 Lease.
	Namespace, Name string
	// Identity names this replica in the Lease (the pod name).
	Identity string
	// Timings; zero means the defaults above.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// ReleaseOnCancel gives the Lease up when ctx ends (a rolling restart
	// hands over at once); false leaves it to expire, as a crash does.
	ReleaseOnCancel bool
	// OnLeading, when set, is told when this replica starts (true) and
	// stops (false) leading.
	OnLeading func(bool)
}

// RunLeader runs work while this replica holds the Lease, until ctx ends;
// work's context ends when the lease is lost, and a replica that lost it
// stands for election again. It returns nil when ctx ends, or at once for
// options that cannot work.
func RunLeader(ctx context.Context, client LeaseClient, o LeaderOptions, work func(context.Context)) error {
	if o.Namespace == "" || o.Name == "" || o.Identity == "" {
		return errors.New("leader election: the Lease namespace, name and this replica's identity are required")
	}
	if client == nil {
		return errors.New("leader election: no API client")
	}
	e := &elector{client: client, o: o}
	e.o.LeaseDuration = orDefault(o.LeaseDuration, DefaultLeaseDuration)
	e.o.RenewDeadline = orDefault(o.RenewDeadline, DefaultRenewDeadline)
	e.o.RetryPeriod = orDefault(o.RetryPeriod, DefaultRetryPeriod)
	for ctx.Err() == nil {
		if !e.acquire(ctx) {
			break
		}
		e.lead(ctx, work)
	}
	if o.ReleaseOnCancel {
		e.release()
	}
	return nil
}

// elector is one replica's view of the Lease.
type elector struct {
	client LeaseClient
	o      LeaderOptions
	// observed is the Lease as last read or written, and observedAt when
	// its content last changed by this replica's clock: another holder's
	// lease counts as expired once observedAt + its duration has passed,
	// whatever that holder's clock says.
	observed   *coordinationv1.Lease
	observedAt time.Time
}

// acquire tries every retry period until it holds the Lease (true) or ctx
// ends (false).
func (e *elector) acquire(ctx context.Context) bool {
	for {
		if e.tryAcquireOrRenew(ctx) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(jitter(e.o.RetryPeriod)):
		}
	}
}

// lead runs work until the Lease cannot be renewed within the renew
// deadline or ctx ends.
func (e *elector) lead(ctx context.Context, work func(context.Context)) {
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	if e.o.OnLeading != nil {
		e.o.OnLeading(true)
	}
	go func() {
		defer close(done)
		work(wctx)
	}()
	defer func() {
		stop()
		<-done
		if e.o.OnLeading != nil {
			e.o.OnLeading(false)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(e.o.RetryPeriod):
		}
		deadline := time.Now().Add(e.o.RenewDeadline)
		renewed := false
		for !renewed && time.Now().Before(deadline) && ctx.Err() == nil {
			rctx, cancel := context.WithDeadline(ctx, deadline)
			renewed = e.tryAcquireOrRenew(rctx)
			cancel()
			if !renewed {
				select {
				case <-ctx.Done():
				case <-time.After(e.o.RetryPeriod / 2):
				}
			}
		}
		if !renewed {
			return // lost: another replica may hold it now
		}
	}
}

// tryAcquireOrRenew takes the Lease when it is free, expired or ours, and
// reports whether this replica holds it now.
func (e *elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := metav1.NewMicroTime(time.Now())
	seconds := int32(e.o.LeaseDuration / time.Second)
	l, err := e.client.GetLease(ctx, e.o.Namespace, e.o.Name)
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.o.Namespace, Name: e.o.Name},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(e.o.Identity), LeaseDurationSeconds: &seconds,
				AcquireTime: &now, RenewTime: &now, LeaseTransitions: ptr.To(int32(0))},
		}
		created, err := e.client.CreateLease(ctx, l)
		if err != nil {
			return false
		}
		e.see(created, now.Time)
		return true
	}
	if err != nil {
		return false
	}
	if e.observed == nil || !sameRecord(e.observed, l) {
		e.see(l, now.Time)
	}
	holder := ptr.Deref(l.Spec.HolderIdentity, "")
	duration := time.Duration(ptr.Deref(l.Spec.LeaseDurationSeconds, 0)) * time.Second
	if holder != "" && holder != e.o.Identity && now.Time.Before(e.observedAt.Add(duration)) {
		return false // held by another replica, not expired
	}
	next := l.DeepCopy()
	if holder != e.o.Identity {
		next.Spec.AcquireTime = &now
		next.Spec.LeaseTransitions = ptr.To(ptr.Deref(l.Spec.LeaseTransitions, 0) + 1)
	}
	next.Spec.HolderIdentity = ptr.To(e.o.Identity)
	next.Spec.LeaseDurationSeconds = &seconds
	next.Spec.RenewTime = &now
	updated, err := e.client.UpdateLease(ctx, next)
	if err != nil {
		return false // a conflict: another replica wrote first
	}
	e.see(updated, now.Time)
	return true
}

// release gives the Lease up if this replica holds it, so that another
// takes over at once.
func (e *elector) release() {
	if e.observed == nil || ptr.Deref(e.observed.Spec.HolderIdentity, "") != e.o.Identity {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.o.RenewDeadline)
	defer cancel()
	now := metav1.NewMicroTime(time.Now())
	next := e.observed.DeepCopy()
	next.Spec.HolderIdentity = nil
	next.Spec.LeaseDurationSeconds = ptr.To(int32(1))
	next.Spec.RenewTime = &now
	if updated, err := e.client.UpdateLease(ctx, next); err == nil {
		e.see(updated, now.Time)
	}
}

func (e *elector) see(l *coordinationv1.Lease, at time.Time) {
	e.observed, e.observedAt = l, at
}

// sameRecord reports whether two reads of the Lease hold the same record.
func sameRecord(a, b *coordinationv1.Lease) bool {
	return a.ResourceVersion == b.ResourceVersion
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// jitter spreads retries by up to a fifth, so replicas do not collide.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
