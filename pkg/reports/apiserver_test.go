package reports

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// reportsModule is the Go module whose types Build returns; its CRD
// manifest is read from the module cache, at the version go.mod requires.
const reportsModule = "github.com/openreports/reports-api"

// strict makes the API server refuse any field its schema lacks.
var strict = metav1.CreateOptions{FieldValidation: "Strict"}

// TestAgainstAPIServer installs the OpenReports Report CRD (from the
// module) and the v1alpha2 PolicyReport CRD (testdata) in a real
// kube-apiserver, creates a Deployment, and creates the Report built for
// it and its PolicyReport variant with strict field validation: both are
// valid under the real schemas, read back with the same content (hash,
// summary, results), print `kubectl get` columns from their summary, and
// are garbage-collected with the Deployment that owns them.
func TestAgainstAPIServer(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{Log: testLog{t}, ControllerManager: true})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	quiet := rest.CopyConfig(c.Config)
	quiet.WarningHandler = rest.NoWarnings{} // the long Deployment name is "not a DNS label"
	cs := kubernetes.NewForConfigOrDie(quiet)

	policyReportCRD, err := os.ReadFile(filepath.Join("testdata", "wgpolicyk8s.io_policyreports.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, crd := range [][]byte{cluster.ModuleFile(t, reportsModule, "config/crd/openreports.io_reports.yaml"), policyReportCRD} {
		if err := c.InstallCRD(ctx, crd); err != nil {
			t.Fatal(err)
		}
	}

	const ns = "shop"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A Deployment with the longest name there is: its report's name and
	// labels are cut and hashed, and must still be valid.
	for _, tc := range []struct{ test, name string }{{"api", "api"}, {"longest-name", strings.Repeat("a", 250) + ".v2"}} {
		name := tc.name
		t.Run(tc.test, func(t *testing.T) {
			d := createDeployment(ctx, t, cs, ns, name)
			in := input()
			in.APIVersion, in.Kind, in.Namespace, in.Name, in.UID = "apps/v1", "Deployment", ns, d.Name, d.UID
			in.Restart = "kubectl rollout restart deployment/" + d.Name + " -n " + ns
			want := Build(in)

			// The Report.
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(want)
			if err != nil {
				t.Fatal(err)
			}
			created := create(ctx, t, dyn.Resource(ReportResource).Namespace(ns), &unstructured.Unstructured{Object: obj})
			var got openreportsv1alpha1.Report
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(get(ctx, t, dyn.Resource(ReportResource).Namespace(ns), created.GetName()).Object, &got); err != nil {
				t.Fatal(err)
			}
			if got.Name != want.Name || !Equal(&got, want) || ContentHash(&got) != got.Annotations[AnnotationContentHash] {
				t.Errorf("Report read back has content hash %s (annotation %s), want %s",
					ContentHash(&got), got.Annotations[AnnotationContentHash], ContentHash(want))
			}
			if got.Summary != want.Summary || len(got.Results) != len(want.Results) || !reflect.DeepEqual(got.Results, want.Results) {
				t.Errorf("Report read back: summary %+v, %d results; want %+v, %d results", got.Summary, len(got.Results), want.Summary, len(want.Results))
			}
			checkTable(ctx, t, c.Config, c.URL, ReportResource, ns, want)

			// The PolicyReport.
			pr := AsPolicyReport(want)
			create(ctx, t, dyn.Resource(PolicyReportResource).Namespace(ns), pr)
			var gotPR openreportsv1alpha1.Report // same field names
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(get(ctx, t, dyn.Resource(PolicyReportResource).Namespace(ns), pr.GetName()).Object, &gotPR); err != nil {
				t.Fatal(err)
			}
			if gotPR.Summary != want.Summary || !reflect.DeepEqual(gotPR.Results, want.Results) || !reflect.DeepEqual(gotPR.Scope, want.Scope) {
				t.Errorf("PolicyReport read back: summary %+v, %d results; want %+v, %d results", gotPR.Summary, len(gotPR.Results), want.Summary, len(want.Results))
			}
			checkTable(ctx, t, c.Config, c.URL, PolicyReportResource, ns, want)

			if name != "api" {
				return
			}
			// Strict validation is on: a report-level source, which
			// v1alpha2 lacks (the reason AsPolicyReport drops it), and an
			// unknown result field are refused.
			bad := pr.DeepCopy()
			bad.SetName("bad-source")
			bad.Object["source"] = Source
			if _, err := dyn.Resource(PolicyReportResource).Namespace(ns).Create(ctx, bad, strict); err == nil || !strings.Contains(err.Error(), `unknown field "source"`) {
				t.Errorf("a PolicyReport with a report-level source: %v, want a strict-validation error", err)
			}
			bad = &unstructured.Unstructured{Object: runtime.DeepCopyJSON(obj)}
			bad.SetName("bad-result")
			bad.Object["results"].([]any)[0].(map[string]any)["details"] = "x"
			if _, err := dyn.Resource(ReportResource).Namespace(ns).Create(ctx, bad, strict); err == nil || !strings.Contains(err.Error(), "details") {
				t.Errorf("a Report with an unknown result field: %v, want a strict-validation error", err)
			}

			// Owned by the Deployment: the garbage collector deletes both
			// reports with it.
			bg := metav1.DeletePropagationBackground
			if err := cs.AppsV1().Deployments(ns).Delete(ctx, d.Name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for _, res := range []schema.GroupVersionResource{ReportResource, PolicyReportResource} {
				waitGone(ctx, t, dyn.Resource(res).Namespace(ns), want.Name)
			}
			t.Logf("reports garbage-collected %s after the Deployment's deletion", time.Since(start).Round(time.Second))
		})
	}
}

func createDeployment(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": "api"}
	d, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/acme/api:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Deployment: %v", err)
	}
	return d
}

func create(ctx context.Context, t *testing.T, ri dynamic.ResourceInterface, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	got, err := ri.Create(ctx, u, strict)
	if err != nil {
		t.Fatalf("create %s %s (strict field validation): %v", u.GetKind(), u.GetName(), err)
	}
	return got
}

func get(ctx context.Context, t *testing.T, ri dynamic.ResourceInterface, name string) *unstructured.Unstructured {
	t.Helper()
	got, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return got
}

// checkTable asks for the object as `kubectl get` does (as a Table) and
// checks the printer columns the CRD declares: the scope's kind and name,
// and the summary's counts.
func checkTable(ctx context.Context, t *testing.T, cfg *rest.Config, base string, res schema.GroupVersionResource, ns string, want *openreportsv1alpha1.Report) {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url := base + "/apis/" + res.Group + "/" + res.Version + "/namespaces/" + ns + "/" + res.Resource + "/" + want.Name
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var table metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&table); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s as a Table: %s, %v", url, resp.Status, err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%s table: %d rows", res.Resource, len(table.Rows))
	}
	cells := map[string][]any{} // two columns are titled Name: the object's and the scope's
	for i, col := range table.ColumnDefinitions {
		cells[col.Name] = append(cells[col.Name], table.Rows[0].Cells[i])
	}
	s := want.Summary
	for col, v := range map[string][]any{
		"Name": {want.Name, want.Scope.Name}, "Kind": {want.Scope.Kind},
		"Pass": {float64(s.Pass)}, "Fail": {float64(s.Fail)}, "Warn": {float64(s.Warn)},
		"Error": {float64(s.Error)}, "Skip": {float64(s.Skip)},
	} {
		if !reflect.DeepEqual(cells[col], v) {
			t.Errorf("%s column %s = %v, want %v (columns %v)", res.Resource, col, cells[col], v, cells)
		}
	}
}

func waitGone(ctx context.Context, t *testing.T, ri dynamic.ResourceInterface, name string) {
	t.Helper()
	poll(ctx, t, name+" garbage-collected", func() (bool, error) {
		_, err := ri.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

func poll(ctx context.Context, t *testing.T, what string, done func() (bool, error)) {
	t.Helper()
	var last error
	for {
		ok, err := done()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last error: %v)", what, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
