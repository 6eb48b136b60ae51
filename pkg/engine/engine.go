package engine

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/tokenguard/tokenguard/pkg/awsid"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// EvidenceSource finds what is known about an image, pulled as puller would
// pull it (its credentials). It never fails: what it cannot find is reported
// in Evidence.Unavailable, and it must return within the context's
// deadline.
type EvidenceSource interface {
	Evidence(ctx context.Context, puller policy.Puller, image string) *policy.Evidence
}

// Prefetcher is an EvidenceSource that can start several lookups at once,
// so that a pod's images are looked up in parallel.
type Prefetcher interface {
	Prefetch(ctx context.Context, puller policy.Puller, images ...string)
}

// AWSCredentialSource says which AWS credentials the pods of a service
// account will get (IRSA from its eks.amazonaws.com/role-arn annotation, EKS
// Pod Identity from an association), for pod specs that the mutating
// webhooks have not seen yet. awsid.Directory is one.
type AWSCredentialSource interface {
	AWSContext(namespace, serviceAccount string) policy.AWSContext
}

// Engine is the one evaluation: evidence for a subject's images, the
// catalog's findings, and the configuration's exemptions. Every caller
// (serve, the namespace preview, check, audit) goes through Evaluate and
// then Decide. It is safe for concurrent use.
type Engine struct {
	catalog  *policy.Catalog
	evidence EvidenceSource
	exempter Exempter
	aws      AWSCredentialSource
	budget   time.Duration
	// controlPlane may be learnt after start-up (discovery), hence atomic.
	controlPlane atomic.Pointer[policy.KubeVersion]
}

// Options build an Engine.
type Options struct {
	// Catalog is required.
	Catalog *policy.Catalog
	// Evidence finds evidence per image; nil reads only the tag (with
	// sdkdetect.TagOnly's rules, given by the caller).
	Evidence EvidenceSource
	// Exempter applies the configuration's exemptions; nil exempts nothing.
	Exempter Exempter
	// ControlPlane is the API server's version for the kube-proxy rule; nil
	// leaves kube-proxy unknown until SetControlPlane.
	ControlPlane *policy.KubeVersion
	// AWS tells which AWS credentials a service account's pods get; nil
	// leaves it to what the pod spec shows.
	AWS AWSCredentialSource
	// Budget, when positive, bounds the evidence lookups of one evaluation
	// together: a pod with five images waits at most Budget in all, not
	// five times an image's timeout (registry.timeout). Zero: only the
	// caller's context bounds them.
	Budget time.Duration
}

// New returns an engine.
func New(o Options) *Engine {
	e := &Engine{catalog: o.Catalog, evidence: o.Evidence, exempter: o.Exempter, aws: o.AWS, budget: o.Budget}
	e.controlPlane.Store(o.ControlPlane)
	return e
}

// Catalog is the engine's catalog.
func (e *Engine) Catalog() *policy.Catalog { return e.catalog }

// SetControlPlane sets the API server's version for the kube-proxy rule.
func (e *Engine) SetControlPlane(v *policy.KubeVersion) { e.controlPlane.Store(v) }

// ControlPlane returns the control-plane version in use, or nil.
func (e *Engine) ControlPlane() *policy.KubeVersion { return e.controlPlane.Load() }

// Subject is what one evaluation judges: one pod spec as admission sees it,
// in its namespace. Its service account and image pull secrets are the
// ones the pod runs with.
type Subject struct {
	Namespace string
	Pod       *policy.PodSpec
	// Mutated says the pod spec has been through the mutating webhooks (a
	// Pod at admission, or read from the cluster): its containers already
	// show the AWS credentials they get, so the service account's are not
	// added. Templates and manifests are not mutated.
	Mutated bool
}

// Result is what Evaluate found.
type Result struct {
	// Findings are sorted by container and component; those the
	// configuration exempts carry Finding.Exempt.
	Findings []policy.Finding
	// Verdict is the worst verdict of the findings that are not exempt.
	Verdict policy.Verdict
	// Exemption says what the configuration exempted.
	Exemption Exemption
}

// Evaluate judges one subject: evidence for each container's image (looked
// up as the pod would pull it), the catalog's findings, then exemptions.
func (e *Engine) Evaluate(ctx context.Context, s Subject) Result {
	pod := s.Pod
	if e.aws != nil && !s.Mutated {
		if sa := e.aws.AWSContext(s.Namespace, pod.ServiceAccountName); sa != (policy.AWSContext{}) {
			p := *pod
			p.AWS = awsid.Merge(pod.AWS, sa)
			pod = &p
		}
	}
	if e.budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.budget)
		defer cancel()
	}
	puller := policy.Puller{Namespace: s.Namespace, ServiceAccount: pod.ServiceAccountName, PullSecrets: pod.ImagePullSecrets}
	if p, ok := e.evidence.(Prefetcher); ok && len(pod.Containers) > 1 {
		images := make([]string, len(pod.Containers))
		for i := range pod.Containers {
			images[i] = pod.Containers[i].Image
		}
		p.Prefetch(ctx, puller, images...)
	}
	var buf [8]*policy.Evidence
	ev := buf[:0]
	for i := range pod.Containers {
		ev = append(ev, e.evidence.Evidence(ctx, puller, pod.Containers[i].Image))
	}
	r := Result{Findings: e.catalog.Evaluate(pod, ev, policy.Options{ControlPlane: e.controlPlane.Load()})}
	r.Exemption = applyExemptions(e.exempter, s.Namespace, pod.ServiceAccountName, r.Findings)
	r.Verdict = policy.Worst(r.Findings)
	return r
}

// Merge joins the results of several pod specs of one workload (a rollout's
// old and new templates): the union of their findings, each once, and the
// worst verdict.
func Merge(results ...Result) Result {
	var out Result
	out.Findings = []policy.Finding{}
	out.Verdict = policy.VerdictNotApplicable
	seen := map[policy.Finding]bool{}
	for i := range results {
		r := &results[i]
		for _, f := range r.Findings {
			if !seen[f] {
				seen[f] = true
				out.Findings = append(out.Findings, f)
			}
		}
		if r.Verdict.Rank() > out.Verdict.Rank() {
			out.Verdict = r.Verdict
		}
		out.Exemption.add(r.Exemption)
	}
	return out
}
