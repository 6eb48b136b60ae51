package controller

import (
	"context"
	"errors"
	"time"

	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/reports"
)

// Reconciler keeps reports current: each Sync groups the pods of its
// source by workload (as audit does), judges every workload with the one
// engine, and writes each workload's report whose content changed.
// Reports of workloads that are deleted go with them (owner references).
type Reconciler struct {
	// Source lists pods, replica sets and jobs: the Cache.
	Source clusteraudit.Client
	Engine *engine.Engine
	Writer *Writer
	// Metrics, when set, receives the workload counts and writes.
	Metrics *Metrics
	// Now stamps the results; nil is time.Now.
	Now func() time.Time
}

// SyncResult counts what a Sync did.
type SyncResult struct {
	Workloads                           int
	Created, Updated, Unchanged, Failed int
}

// Sync judges every workload once and writes the reports that changed. A
// write that fails is counted and the others go on; the first such error
// is returned with the counts.
func (r *Reconciler) Sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	ws, err := clusteraudit.Collect(ctx, r.Source, clusteraudit.Options{})
	if err != nil {
		return res, err
	}
	clusteraudit.Judge(ctx, r.Engine, ws)
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	at := now()
	counts := map[string]map[string]int{}
	var firstErr error
	for i := range ws {
		w := &ws[i]
		res.Workloads++
		if counts[w.Namespace] == nil {
			counts[w.Namespace] = map[string]int{}
		}
		counts[w.Namespace][string(w.Verdict)]++
		rep := reports.Build(reports.Input{
			APIVersion: w.APIVersion, Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, UID: w.UID,
			Findings: w.Findings, Restart: clusteraudit.Restart(w), Time: at,
		})
		outcome, err := r.Writer.Apply(ctx, rep)
		switch outcome {
		case OutcomeCreated:
			res.Created++
		case OutcomeUpdated:
			res.Updated++
		case OutcomeUnchanged:
			res.Unchanged++
		default:
			res.Failed++
		}
		if r.Metrics != nil {
			r.Metrics.Write(r.Writer.Kind(), outcome)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			break
		}
	}
	if r.Metrics != nil {
		r.Metrics.SetWorkloads(counts)
	}
	return res, firstErr
}
