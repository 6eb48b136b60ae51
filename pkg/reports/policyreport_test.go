package reports

import (
	"reflect"
	"testing"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestAsPolicyReport(t *testing.T) {
	r := Build(input())
	u := AsPolicyReport(r)
	if u.GetAPIVersion() != "wgpolicyk8s.io/v1alpha2" || u.GetKind() != "PolicyReport" {
		t.Errorf("type %s %s", u.GetAPIVersion(), u.GetKind())
	}
	if u.GetName() != r.Name || u.GetNamespace() != r.Namespace || !reflect.DeepEqual(u.GetLabels(), r.Labels) ||
		!reflect.DeepEqual(u.GetAnnotations(), r.Annotations) || !reflect.DeepEqual(u.GetOwnerReferences(), r.OwnerReferences) {
		t.Errorf("metadata %v", u.Object["metadata"])
	}
	for _, f := range []string{"source", "configuration"} {
		if _, ok := u.Object[f]; ok {
			t.Errorf("a PolicyReport has no report-level %q", f)
		}
	}
	if md := u.Object["metadata"].(map[string]any); len(md) != 5 {
		t.Errorf("metadata holds more than tokenguard sets: %v", md)
	}

	// The rest reads back as the Report's scope, summary and results.
	var back openreportsv1alpha1.Report
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Scope, r.Scope) || back.Summary != r.Summary || !reflect.DeepEqual(back.Results, r.Results) {
		t.Errorf("PolicyReport content differs from the Report's:\n%+v\nwant\n%+v", back, r)
	}

	// The conversion copies: editing it leaves the Report alone.
	u.Object["results"].([]any)[0].(map[string]any)["result"] = "error"
	if r.Results[0].Result == "error" {
		t.Error("AsPolicyReport shares the Report's results")
	}
}
