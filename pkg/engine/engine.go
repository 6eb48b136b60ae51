package engine

import (
	"context"
	"sync/atomic"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// EvidenceSource finds what is known about an image. It never fails: what it
// cannot find is reported in Evidence.Unavailable, and it must return within
// the context's deadline.
type EvidenceSource interface {
	Evidence(ctx context.Context, image string) *policy.Evidence
}

// Prefetcher is an EvidenceSource that can start several lookups at once,
// so that a pod's images are looked up in parallel.
type Prefetcher interface {
	Prefetch(ctx context.Context, images ...string)
}

// Engine judges pod specs with one catalog and one evidence source. It is
// safe for concurrent use.
type Engine struct {
	Catalog  *policy.Catalog
	Evidence EvidenceSource
	// controlPlane may be learnt after start-up (discovery), hence atomic.
	controlPlane atomic.Pointer[policy.KubeVersion]
}

// New returns an engine; controlPlane may be nil (kube-proxy is then
// unknown until SetControlPlane).
func New(c *policy.Catalog, ev EvidenceSource, controlPlane *policy.KubeVersion) *Engine {
	e := &Engine{Catalog: c, Evidence: ev}
	e.controlPlane.Store(controlPlane)
	return e
}

// SetControlPlane sets the API server's version for the kube-proxy rule.
func (e *Engine) SetControlPlane(v *policy.KubeVersion) { e.controlPlane.Store(v) }

// ControlPlane returns the control-plane version in use, or nil.
func (e *Engine) ControlPlane() *policy.KubeVersion { return e.controlPlane.Load() }

// Judge returns the findings for a pod spec and its worst verdict.
func (e *Engine) Judge(ctx context.Context, pod *policy.PodSpec) ([]policy.Finding, policy.Verdict) {
	if p, ok := e.Evidence.(Prefetcher); ok && len(pod.Containers) > 1 {
		images := make([]string, len(pod.Containers))
		for i := range pod.Containers {
			images[i] = pod.Containers[i].Image
		}
		p.Prefetch(ctx, images...)
	}
	var buf [8]*policy.Evidence
	ev := buf[:0]
	for i := range pod.Containers {
		ev = append(ev, e.Evidence.Evidence(ctx, pod.Containers[i].Image))
	}
	findings := e.Catalog.Evaluate(pod, ev, policy.Options{ControlPlane: e.controlPlane.Load()})
	return findings, policy.Worst(findings)
}
