package admission

import (
	"context"
	"log/slog"
	"slices"

	"github.com/slok/kubewebhook/v2/pkg/model"
	"github.com/slok/kubewebhook/v2/pkg/webhook/validating"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientsetscheme "k8s.io/client-go/kubernetes/scheme"

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
}

var oldObjectDecoder = clientsetscheme.Codecs.UniversalDeserializer()

// Validator returns the kubewebhook validator of one mode.
func (r *Reviewer) Validator(mode Mode) validating.Validator {
	return validating.ValidatorFunc(func(ctx context.Context, ar *model.AdmissionReview, obj metav1.Object) (*validating.ValidatorResult, error) {
		return r.validate(ctx, mode, ar, obj), nil
	})
}

func (r *Reviewer) validate(ctx context.Context, mode Mode, ar *model.AdmissionReview, obj metav1.Object) *validating.ValidatorResult {
	allowed := &validating.ValidatorResult{Valid: true}
	ro, _ := obj.(runtime.Object)
	w, ok, err := workload.FromObject(ro)
	switch {
	case err != nil:
		r.Metrics.skip(mode, "undecodable")
		if r.Log != nil {
			r.Log.Warn("allowed a request whose object could not be read", "mode", mode, "uid", ar.ID,
				"namespace", ar.Namespace, "name", ar.Name, "error", err.Error())
		}
		return allowed
	case !ok:
		r.Metrics.skip(mode, "kind")
		return allowed
	}
	if ar.Operation == model.OperationUpdate && !r.imagesChanged(ar, &w) {
		r.Metrics.skip(mode, "unchanged-images")
		return allowed
	}
	namespace := ar.Namespace
	if namespace == "" {
		namespace = w.Namespace
	}
	name := ar.Name
	if name == "" {
		name = w.Name
	}
	findings, _ := r.Engine.Judge(ctx, &w.Pod)
	exempt := r.exempt(mode, namespace, &w.Pod, findings)
	d := Decide(mode, r.Unknown, findings)
	r.Metrics.judged(mode, w.Kind, &d, findings)
	r.log(ctx, mode, ar, &w, namespace, name, &d, findings, exempt)
	return &validating.ValidatorResult{Valid: d.Allowed, Message: d.Message, Warnings: d.Warnings}
}

// imagesChanged reports whether an UPDATE changes the set of images of the
// pod template. An old object that cannot be read counts as a change, so
// the new one is judged.
func (r *Reviewer) imagesChanged(ar *model.AdmissionReview, w *workload.Workload) bool {
	if len(ar.OldObjectRaw) == 0 {
		return true
	}
	oldObj, _, err := oldObjectDecoder.Decode(ar.OldObjectRaw, nil, nil)
	if err != nil {
		return true
	}
	old, ok, err := workload.FromObject(oldObj)
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

// exempt marks findings the configuration exempts and returns the reason
// that covers the whole workload, if any.
func (r *Reviewer) exempt(mode Mode, namespace string, pod *policy.PodSpec, findings []policy.Finding) string {
	if r.Exempter == nil {
		return ""
	}
	whole, by := r.Exempter.Namespace(namespace), "namespace"
	if whole == "" {
		whole, by = r.Exempter.ServiceAccount(namespace, pod.ServiceAccountName), "service-account"
	}
	for i := range findings {
		f := &findings[i]
		switch {
		case whole != "":
			f.Exempt = whole
		case f.Image != "":
			if f.Exempt = r.Exempter.Image(f.Image); f.Exempt != "" {
				r.Metrics.exempted(mode, "image")
				continue
			}
			fallthrough
		default:
			if f.Component != "" {
				if f.Exempt = r.Exempter.Component(f.Component); f.Exempt != "" {
					r.Metrics.exempted(mode, "component")
				}
			}
		}
	}
	if whole != "" {
		r.Metrics.exempted(mode, by)
	}
	return whole
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
