package engine

import (
	"context"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// EvidenceSource finds what is known about an image. It never fails: what it
// cannot find is reported in Evidence.Unavailable, and it must return within
// the context's deadline.
type EvidenceSource interface {
	Evidence(ctx context.Context, image string) *policy.Evidence
}

// Engine judges pod specs with one catalog and one evidence source. It is
// safe for concurrent use.
type Engine struct {
	Catalog  *policy.Catalog
	Evidence EvidenceSource
	Options  policy.Options
}

// Judge returns the findings for a pod spec and its worst verdict.
func (e *Engine) Judge(ctx context.Context, pod *policy.PodSpec) ([]policy.Finding, policy.Verdict) {
	var buf [8]*policy.Evidence
	ev := buf[:0]
	for i := range pod.Containers {
		ev = append(ev, e.Evidence.Evidence(ctx, pod.Containers[i].Image))
	}
	findings := e.Catalog.Evaluate(pod, ev, e.Options)
	return findings, policy.Worst(findings)
}
