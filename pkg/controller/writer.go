package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/tokenguard/tokenguard/pkg/reports"
)

// Write outcomes, as counted by tokenguard_controller_writes_total.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeDeleted   = "deleted"
	OutcomeError     = "error"
)

// Writer writes reports, as openreports.io Reports or, where only the
// wgpolicyk8s.io CRDs are installed, as PolicyReports; a report whose
// content hash equals the one stored is not written. Writes pass a token
// bucket so that a cold start on a large cluster does not flood the API
// server. It is safe for concurrent use.
type Writer struct {
	client       dynamic.Interface
	policyReport bool
	limiter      flowcontrol.RateLimiter

	mu sync.Mutex
	// stored maps "namespace/name" to the content hash and resourceVersion
	// of each tokenguard report in the cluster, read with one LIST before
	// the first write and kept as this writer writes.
	stored map[string]storedReport
}

type storedReport struct{ hash, resourceVersion string }

// NewWriter writes through client, PolicyReports when policyReport is
// true, at most qps writes a second (burst at once).
func NewWriter(client dynamic.Interface, policyReport bool, qps float32, burst int) *Writer {
	return &Writer{client: client, policyReport: policyReport, limiter: flowcontrol.NewTokenBucketRateLimiter(qps, burst)}
}

// Kind is what the writer writes: "Report" or "PolicyReport".
func (w *Writer) Kind() string {
	if w.policyReport {
		return reports.PolicyReportKind.Kind
	}
	return reports.ReportKind.Kind
}

func (w *Writer) resource() schema.GroupVersionResource {
	if w.policyReport {
		return reports.PolicyReportResource
	}
	return reports.ReportResource
}

// load reads the content hashes of the reports tokenguard wrote.
func (w *Writer) load(ctx context.Context) error {
	if w.stored != nil {
		return nil
	}
	stored := map[string]storedReport{}
	opts := metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=" + reports.ManagedBy, Limit: 500}
	for {
		l, err := w.client.Resource(w.resource()).List(ctx, opts)
		if err != nil {
			return fmt.Errorf("cannot list the %ss tokenguard wrote: %w", w.Kind(), err)
		}
		for i := range l.Items {
			it := &l.Items[i]
			stored[it.GetNamespace()+"/"+it.GetName()] = storedReport{it.GetAnnotations()[reports.AnnotationContentHash], it.GetResourceVersion()}
		}
		if l.GetContinue() == "" {
			break
		}
		opts.Continue = l.GetContinue()
	}
	w.stored = stored
	return nil
}

// Apply writes r unless the stored report has its content; it returns
// what it did.
func (w *Writer) Apply(ctx context.Context, r *openreportsv1alpha1.Report) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.load(ctx); err != nil {
		return OutcomeError, err
	}
	key := r.Namespace + "/" + r.Name
	hash := r.Annotations[reports.AnnotationContentHash]
	old, exists := w.stored[key]
	if exists && old.hash == hash {
		return OutcomeUnchanged, nil
	}
	obj, err := w.object(r)
	if err != nil {
		return OutcomeError, err
	}
	if err := w.limiter.Wait(ctx); err != nil {
		return OutcomeError, err
	}
	res := w.client.Resource(w.resource()).Namespace(r.Namespace)
	var out *unstructured.Unstructured
	outcome := OutcomeCreated
	if exists {
		obj.SetResourceVersion(old.resourceVersion)
		outcome = OutcomeUpdated
		out, err = res.Update(ctx, obj, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			// Changed or deleted behind our back: read it again next time.
			delete(w.stored, key)
		}
	} else {
		out, err = res.Create(ctx, obj, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			w.stored = nil // someone else wrote: reload before the next write
		}
	}
	if err != nil {
		return OutcomeError, fmt.Errorf("cannot write %s %s/%s: %w", w.Kind(), r.Namespace, r.Name, err)
	}
	w.stored[key] = storedReport{hash, out.GetResourceVersion()}
	return outcome, nil
}

// object is r as the unstructured object to write.
func (w *Writer) object(r *openreportsv1alpha1.Report) (*unstructured.Unstructured, error) {
	if w.policyReport {
		return reports.AsPolicyReport(r), nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(reports.ReportKind)
	return u, nil
}

// Prune deletes the reports tokenguard wrote whose "namespace/name" is not
// in keep: reports of workloads that no longer run a pod (scaled to zero,
// a finished Job). It returns how many it deleted and the first error.
func (w *Writer) Prune(ctx context.Context, keep map[string]bool) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.load(ctx); err != nil {
		return 0, err
	}
	var gone []string
	for key := range w.stored {
		if !keep[key] {
			gone = append(gone, key)
		}
	}
	slices.Sort(gone)
	n := 0
	var firstErr error
	for _, key := range gone {
		ns, name, _ := strings.Cut(key, "/")
		if err := w.limiter.Wait(ctx); err != nil {
			return n, err
		}
		rv := w.stored[key].resourceVersion
		err := w.client.Resource(w.resource()).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
		switch {
		case err == nil || apierrors.IsNotFound(err):
			delete(w.stored, key)
			if err == nil {
				n++
			}
		case apierrors.IsConflict(err):
			delete(w.stored, key) // changed behind our back: read again
		default:
			if firstErr == nil {
				firstErr = fmt.Errorf("cannot delete %s %s: %w", w.Kind(), key, err)
			}
		}
	}
	return n, firstErr
}
