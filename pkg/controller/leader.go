// Package controller is `tokenguard controller`: it keeps every running
// workload's report current (docs/notes/controller-design.md). This file
// holds its leader election: two replicas run, one works at a time, the
// other takes over within the lease duration when the leader dies.
package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Lease timings: a dead leader is replaced within LeaseDuration (plus one
// RetryPeriod); a leader that cannot renew for RenewDeadline stops working.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

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
	// OnNewLeader, when set, is told each leader's identity as it changes.
	OnNewLeader func(identity string)
}

// RunLeader runs work while this replica holds the Lease, until ctx ends;
// work's context ends when the lease is lost. It returns when ctx ends
// (nil), or at once for options that cannot work. Only the Lease API of
// cfg's cluster is used (the typed coordination client, not a full
// clientset).
func RunLeader(ctx context.Context, cfg *rest.Config, o LeaderOptions, work func(context.Context)) error {
	if o.Namespace == "" || o.Name == "" || o.Identity == "" {
		return errors.New("leader election: the Lease namespace, name and this replica's identity are required")
	}
	client, err := coordinationv1.NewForConfig(rest.AddUserAgent(rest.CopyConfig(cfg), "tokenguard-controller"))
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name},
		Client:     client,
		LockConfig: resourcelock.ResourceLockConfig{Identity: o.Identity},
	}
	lc := leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   orDefault(o.LeaseDuration, DefaultLeaseDuration),
		RenewDeadline:   orDefault(o.RenewDeadline, DefaultRenewDeadline),
		RetryPeriod:     orDefault(o.RetryPeriod, DefaultRetryPeriod),
		ReleaseOnCancel: o.ReleaseOnCancel,
		Name:            o.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: work,
			OnStoppedLeading: func() {},
			OnNewLeader: func(identity string) {
				if o.OnNewLeader != nil {
					o.OnNewLeader(identity)
				}
			},
		},
	}
	// Run returns when the lease is lost or ctx ends; a replica that lost
	// it stands for election again, with a new elector.
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(lc)
		if err != nil {
			return fmt.Errorf("leader election: %w", err)
		}
		le.Run(ctx)
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
