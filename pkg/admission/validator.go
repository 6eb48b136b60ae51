package admission

import (
	"context"
	"log/slog"
	"slices"

	"github.com/slok/kubewebhook/v2/pkg/model"
	"github.com/slok/kubewebhook/v2/pkg/webhook"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/workload"
)

// Exempter says why the configuration exempts something; "" means it does
// not. A nil Exempter exempts nothing.
type Exempter interface {
	Namespace(ns string) string
	ServiceAccount(ns, sa string) string
	Image(image string) string
	Component(id string) string
}

// Reviewer judges workloads for every mode with one engine.
type Reviewer struct {
	Engine   *engine.Engine
	Unknown  UnknownAction
	Exempter Exempter
	Metrics  *Metrics
	Log      *slog.Logger
	// EvidenceContext, when set, derives the context of one workload's
	// evidence lookups from the review's, for instance to carry the
	// registry credentials of its namespace, service account and image
	// pull secrets. It must not block.
	EvidenceContext func(ctx context.Context, namespace string, pod *policy.PodSpec) context.Context
	// Previewer, when set, answers the enforce preview of a namespace whose
	// tokenguard.io/mode label becomes enforce.
	Previewer Previewer
}

// Webhook returns the kubewebhook validating webhook of one mode. It is
// built on kubewebhook's webhook layer rather than its validating package:
// that package decodes every object in full with client-go's universal
// deserializer, while tokenguard reads only the fields token rules need
// (workload.FromJSON), which is most of the cost of a review.
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
	dec := decodedFrom(ctx)
	var w workload.Workload
	var ok bool
	var err error
	if dec != nil && dec.object != nil {
		w, ok, err = dec.object.Workload(ar.RequestGVK.Group, ar.RequestGVK.Kind)
	} else {
		w, ok, err = workload.FromJSON(ar.RequestGVK.Group, ar.RequestGVK.Kind, ar.NewObjectRaw)
	}
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
	if ar.Operation == model.OperationUpdate && !imagesChanged(ar, dec, &w) {
		r.Metrics.skip(mode, "unchanged-images")
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
	judgeCtx := ctx
	if r.EvidenceContext != nil {
		judgeCtx = r.EvidenceContext(ctx, namespace, &w.Pod)
	}
	findings, _ := r.Engine.Judge(judgeCtx, &w.Pod)
	exempt := r.exempt(mode, namespace, &w.Pod, findings)
	d := Decide(mode, r.Unknown, findings)
	r.Metrics.judged(mode, w.Kind, &d, findings)
	r.log(ctx, mode, ar, &w, namespace, name, &d, findings, exempt)
	return d.Allowed, d.Message, d.Warnings
}

// imagesChanged reports whether an UPDATE changes the set of images of the
// pod template. An old object that cannot be read counts as a change, so
// the new one is judged.
func imagesChanged(ar *model.AdmissionReview, d *decodedObjects, w *workload.Workload) bool {
	var old workload.Workload
	var ok bool
	var err error
	switch {
	case d != nil && d.oldObject != nil:
		old, ok, err = d.oldObject.Workload(ar.RequestGVK.Group, ar.RequestGVK.Kind)
	case len(ar.OldObjectRaw) > 0:
		old, ok, err = workload.FromJSON(ar.RequestGVK.Group, ar.RequestGVK.Kind, ar.OldObjectRaw)
	default:
		return true
	}
	if err != nil || !ok {
		return true
	}
	return !slices.Equal(imageSet(&old.Pod), imageSet(&w.Pod))
}

func imageSet(p *policy.PodSpec) []string {
	images := make([]string, 0, len(p.Containers))
	for i := range p.Containers {
		images = append(images, p.Containers[i].Image)
	}
	slices.Sort(images)
	return slices.Compact(images)
}

// exempt marks the findings the configuration exempts, counts them, and
// returns the reason that covers the whole workload, if any.
func (r *Reviewer) exempt(mode Mode, namespace string, pod *policy.PodSpec, findings []policy.Finding) string {
	e := ApplyExemptions(r.Exempter, namespace, pod, findings)
	if e.Whole != "" {
		r.Metrics.exempted(mode, e.By)
	}
	for range e.Images {
		r.Metrics.exempted(mode, "image")
	}
	for range e.Components {
		r.Metrics.exempted(mode, "component")
	}
	return e.Whole
}

// Exemption says what ApplyExemptions exempted.
type Exemption struct {
	// Whole is the reason that covers the whole workload, By what it is
	// ("namespace" or "service-account"); empty when none.
	Whole, By string
	// Images and Components count the findings exempted one by one.
	Images, Components int
}

// ApplyExemptions marks the findings an Exempter exempts (Finding.Exempt).
// The CLI applies the configuration this way too, so that check and audit
// agree with admission.
func ApplyExemptions(x Exempter, namespace string, pod *policy.PodSpec, findings []policy.Finding) Exemption {
	var e Exemption
	if x == nil {
		return e
	}
	if e.Whole, e.By = x.Namespace(namespace), "namespace"; e.Whole == "" {
		e.Whole, e.By = x.ServiceAccount(namespace, pod.ServiceAccountName), "service-account"
	}
	if e.Whole == "" {
		e.By = ""
	}
	for i := range findings {
		f := &findings[i]
		if e.Whole != "" {
			f.Exempt = e.Whole
			continue
		}
		if f.Image != "" {
			if f.Exempt = x.Image(f.Image); f.Exempt != "" {
				e.Images++
				continue
			}
		}
		if f.Component != "" {
			if f.Exempt = x.Component(f.Component); f.Exempt != "" {
				e.Components++
			}
		}
	}
	return e
}

func (r *Reviewer) log(ctx context.Context, mode Mode, ar *model.AdmissionReview, w *workload.Workload, namespace, name string, d *Decision, findings []policy.Finding, exempt string) {
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
		slog.Int("warnings", len(d.Warnings)),
		slog.Bool("dryRun", ar.DryRun),
		slog.Any("components", components),
	}
	if exempt != "" {
		attrs = append(attrs, slog.String("exempt", exempt))
	}
	r.Log.LogAttrs(ctx, slog.LevelInfo, "admission review judged", attrs...)
}
