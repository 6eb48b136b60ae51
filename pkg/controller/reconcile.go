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
	// StaleTokens, when set, returns what the audit sinks saw of stale
	// tokens, by service account ("namespace/name"): the reports of the
	// workloads running as one get its result. An error leaves them out of
	// this pass.
	StaleTokens func(ctx context.Context) (map[string]reports.StaleToken, error)
	// Evidence, when set, keeps the ImageEvidence objects in step with what
	// the pass found running.
	Evidence *EvidenceKeeper
	// Now stamps the results; nil is time.Now.
	Now func() time.Time
}

// SyncResult counts what a Sync did.
type SyncResult struct {
	Workloads                           int
	Created, Updated, Unchanged, Failed int
	// Deleted counts reports of workloads that no longer run a pod.
	Deleted int
	// EvidenceMarked and EvidenceDeleted count ImageEvidence writes.
	EvidenceMarked, EvidenceDeleted int
}

// Sync judges every workload once, writes the reports that changed and
// deletes those of workloads that run no pod any more (a report says what
// runs; the workload's next pod brings it back). A write that fails is
// counted and the others go on; the first such error is returned with the
// counts.
func (r *Reconciler) Sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	ws, err := clusteraudit.Collect(ctx, r.Source, clusteraudit.Options{})
	if err != nil {
		return res, err
	}
	clusteraudit.Judge(ctx, r.Engine, ws)
	var stale map[string]reports.StaleToken
	var firstErr error
	if r.StaleTokens != nil {
		if stale, err = r.StaleTokens(ctx); err != nil {
			firstErr = err
		}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	at := now()
	counts := map[string]map[string]int{}
	keep := make(map[string]bool, len(ws))
	for i := range ws {
		w := &ws[i]
		res.Workloads++
		if counts[w.Namespace] == nil {
			counts[w.Namespace] = map[string]int{}
		}
		counts[w.Namespace][string(w.Verdict)]++
		in := reports.Input{
			APIVersion: w.APIVersion, Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, UID: w.UID,
			Findings: w.Findings, Restart: clusteraudit.Restart(w), Time: at,
		}
		for _, sa := range w.ServiceAccounts {
			if st, ok := stale[w.Namespace+"/"+sa]; ok {
				in.StaleTokens = append(in.StaleTokens, st)
			}
		}
		rep := reports.Build(in)
		keep[rep.Namespace+"/"+rep.Name] = true
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
	if ctx.Err() == nil {
		n, err := r.Writer.Prune(ctx, keep)
		res.Deleted = n
		for range n {
			if r.Metrics != nil {
				r.Metrics.Write(r.Writer.Kind(), OutcomeDeleted)
			}
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if r.Evidence != nil && ctx.Err() == nil {
		var err error
		res.EvidenceMarked, res.EvidenceDeleted, err = r.Evidence.Keep(ctx)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if r.Metrics != nil {
		r.Metrics.SetWorkloads(counts)
	}
	return res, firstErr
}
