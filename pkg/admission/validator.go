package admission

import (
	"context"
	"log/slog"

	"github.com/slok/kubewebhook/v2/pkg/model"
	"github.com/slok/kubewebhook/v2/pkg/webhook"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/workload"
)

// Reviewer judges workloads for every mode with one engine: it reads the
// request, asks engine.Evaluate and engine.Decide, and renders the decision
// as the API server wants it. It decides nothing itself.
type Reviewer struct {
	Engine  *engine.Engine
	Unknown UnknownAction
	Metrics *Metrics
	Log     *slog.Logger
	// Previewer, when set, answers the enforce preview of a namespace whose
	// tokenguard.io/mode label becomes enforce.
	Previewer Previewer
	// Bodies, when set, bounds the request bodies all handlers hold at
	// once (shared by the modes).
	Bodies *BodyBudget
}

// Webhook returns the kubewebhook validating webhook of one mode. It is
// built on kubewebhook's webhook layer rather than its validating package:
// that package decodes every object in full with client-go's universal
// deserializer, while tokenguard reads only the fields token rules need
// (workload.Object), which is most of the cost of a review.
func (r *Reviewer) Webhook(mode Mode) webhook.Webhook { return &modeWebhook{mode: mode, r: r} }

type modeWebhook struct {
	mode Mode
	r    *Reviewer
}

func (w *modeWebhook) ID() string              { return "tokenguard-" + string(w.mode) }
func (w *modeWebhook) Kind() model.WebhookKind { return model.WebhookKindValidating }

// Review judges one request. It never returns an error: an object it cannot
// read is allowed (and logged), because an error would hand the decision to
// the API server's failurePolicy.
func (w *modeWebhook) Review(ctx context.Context, ar model.AdmissionReview) (model.AdmissionResponse, error) {
	allowed, message, warnings := w.r.validate(ctx, w.mode, &ar)
	return &model.ValidatingAdmissionResponse{ID: ar.ID, Allowed: allowed, Message: message, Warnings: warnings}, nil
}

func (r *Reviewer) validate(ctx context.Context, mode Mode, ar *model.AdmissionReview) (allowed bool, message string, warnings []string) {
	if ar.RequestGVK.Group == "" && ar.RequestGVK.Kind == "Namespace" {
		return true, "", r.previewNamespace(ctx, mode, ar)
	}
	objects := decodedObjectsOf(ar)
	w, ok, err := objects.object(ar)
	switch {
	case err != nil:
		r.Metrics.skip(mode, "undecodable")
		if r.Log != nil {
			r.Log.Warn("allowed a request whose object could not be read", "mode", mode, "uid", ar.ID,
				"namespace", ar.Namespace, "name", ar.Name, "error", err.Error())
		}
		return true, "", nil
	case !ok:
		r.Metrics.skip(mode, "kind")
		return true, "", nil
	}
	if ar.Operation == model.OperationUpdate && !policyInputsChanged(ar, objects, &w) {
		r.Metrics.skip(mode, "unchanged-policy-inputs")
		return true, "", nil
	}
	namespace := ar.Namespace
	if namespace == "" {
		namespace = w.Namespace
	}
	name := ar.Name
	if name == "" {
		name = w.Name
	}
	// A Pod has been through the mutating webhooks (IRSA, Pod Identity):
	// its containers show the credentials they get. A template has not.
	res := r.Engine.Evaluate(ctx, engine.Subject{Namespace: namespace, Pod: &w.Pod, Mutated: w.Kind == "Pod"})
	d := engine.Decide(mode, r.Unknown, res.Findings)
	r.Metrics.exempted(mode, &res.Exemption)
	r.Metrics.judged(mode, w.Kind, &d, res.Findings)
	ws := renderWarnings(&d)
	r.log(ctx, mode, ar, &w, namespace, name, &d, len(ws), res.Findings, res.Exemption.Whole)
	return d.Allowed, denialMessage(&d), ws
}

// policyInputsChanged reports whether an UPDATE changes anything the policy
// reads of the pod template (images, volumes and token projections, mounts,
// automount, service account, the AWS credential environment); scale,
// labels, status and template annotations such as `kubectl rollout
// restart`'s do not. An old object that cannot be read counts as a change,
// so the new one is judged.
func policyInputsChanged(ar *model.AdmissionReview, objects decodedObjects, w *workload.Workload) bool {
	old, ok, err := objects.oldObject(ar)
	if err != nil || !ok {
		return true
	}
	return workload.PolicyInputsChanged(&old.Pod, &w.Pod)
}

func (r *Reviewer) log(ctx context.Context, mode Mode, ar *model.AdmissionReview, w *workload.Workload, namespace, name string, d *engine.Decision, nWarnings int, findings []policy.Finding, exempt string) {
	if r.Log == nil || !r.Log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	components := make([]string, 0, len(findings))
	for i := range findings {
		f := &findings[i]
		c := f.Component
		if c == "" {
			c = "client-sdk"
		}
		entry := f.Container + "=" + c + ":" + string(f.Verdict)
		if f.Exempt != "" {
			entry += "(exempt)"
		}
		components = append(components, entry)
	}
	attrs := []slog.Attr{
		slog.String("uid", ar.ID),
		slog.String("kind", w.Kind),
		slog.String("namespace", namespace),
		slog.String("name", name),
		slog.String("operation", string(ar.Operation)),
		slog.String("mode", string(mode)),
		slog.String("verdict", string(d.Verdict)),
		slog.Bool("allowed", d.Allowed),
		slog.Int("warnings", nWarnings),
		slog.Bool("dryRun", ar.DryRun),
		slog.Any("components", components),
	}
	if exempt != "" {
		attrs = append(attrs, slog.String("exempt", exempt))
	}
	r.Log.LogAttrs(ctx, slog.LevelInfo, "admission review judged", attrs...)
}
