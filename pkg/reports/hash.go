package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// content is what ContentHash covers: what tokenguard writes, less the
// result timestamps. The API server's fields (uid, resourceVersion,
// generation, creationTimestamp, managedFields) and the hash annotation
// itself are left out.
type content struct {
	Name            string                                   `json:"name"`
	Namespace       string                                   `json:"namespace"`
	Labels          map[string]string                        `json:"labels,omitempty"`
	Annotations     map[string]string                        `json:"annotations,omitempty"`
	OwnerReferences []metav1.OwnerReference                  `json:"ownerReferences,omitempty"`
	Source          string                                   `json:"source"`
	Scope           *corev1.ObjectReference                  `json:"scope,omitempty"`
	ScopeSelector   *metav1.LabelSelector                    `json:"scopeSelector,omitempty"`
	Configuration   *openreportsv1alpha1.ReportConfiguration `json:"configuration,omitempty"`
	Summary         openreportsv1alpha1.ReportSummary        `json:"summary"`
	Results         []openreportsv1alpha1.ReportResult       `json:"results,omitempty"`
}

// ContentHash is "sha256:" and the hex SHA-256 of the report's content:
// its name, namespace, labels, annotations (but AnnotationContentHash),
// ownerReferences, source, scope, summary and results, with the results'
// timestamps zeroed. A report read back from the API server has the hash
// of the one written; a report whose results only got newer timestamps
// has the same hash, so the controller need not write it.
func ContentHash(r *openreportsv1alpha1.Report) string {
	c := content{
		Name: r.Name, Namespace: r.Namespace, Labels: r.Labels, OwnerReferences: r.OwnerReferences,
		Source: r.Source, Scope: r.Scope, ScopeSelector: r.ScopeSelector, Configuration: r.Configuration,
		Summary: r.Summary,
	}
	if len(r.Results) > 0 { // no results: nil, as read back from the server
		c.Results = make([]openreportsv1alpha1.ReportResult, len(r.Results))
	}
	for k, v := range r.Annotations {
		if k == AnnotationContentHash {
			continue
		}
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[k] = v
	}
	for i := range r.Results {
		c.Results[i] = r.Results[i]
		c.Results[i].Timestamp = metav1.Timestamp{}
	}
	b, err := json.Marshal(c) // map keys are sorted
	if err != nil {
		panic("reports: cannot encode a report: " + err.Error()) // only strings, numbers and structs
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Equal reports whether a and b have the same content (ContentHash): a
// write of b over a would change nothing but timestamps and the fields
// the API server fills in.
func Equal(a, b *openreportsv1alpha1.Report) bool {
	return ContentHash(a) == ContentHash(b)
}
