package reports

import (
	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The resources a report is written as: an OpenReports Report, or where
// only the Policy WG's CRDs exist, a PolicyReport.
var (
	ReportResource       = openreportsv1alpha1.SchemeGroupVersion.WithResource("reports")
	ReportKind           = openreportsv1alpha1.SchemeGroupVersion.WithKind("Report")
	PolicyReportResource = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
	PolicyReportKind     = PolicyReportResource.GroupVersion().WithKind("PolicyReport")
)

// AsPolicyReport returns r as a wgpolicyk8s.io/v1alpha2 PolicyReport: the
// metadata tokenguard sets (name, namespace, labels, annotations,
// ownerReferences), scope, scopeSelector, summary and results, whose
// fields have the same names in both APIs. The report-level source and
// configuration, which v1alpha2 lacks, are dropped; each result keeps its
// own source.
func AsPolicyReport(r *openreportsv1alpha1.Report) *unstructured.Unstructured {
	c := openreportsv1alpha1.Report{
		ObjectMeta: metav1.ObjectMeta{
			Name: r.Name, Namespace: r.Namespace, Labels: r.Labels, Annotations: r.Annotations,
			OwnerReferences: r.OwnerReferences,
		},
		Scope: r.Scope, ScopeSelector: r.ScopeSelector, Summary: r.Summary, Results: r.Results,
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c.DeepCopy())
	if err != nil {
		panic("reports: cannot convert a report: " + err.Error()) // plain fields only
	}
	delete(m, "source")
	delete(m, "configuration")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(PolicyReportKind)
	return u
}
