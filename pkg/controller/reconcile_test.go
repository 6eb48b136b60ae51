package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/reports"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
	"github.com/tokenguard/tokenguard/pkg/workload"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// TestReconcileWritesReports: against a real API server with the
// controller manager (Deployments make ReplicaSets and Pods) and the
// OpenReports CRD, a Sync writes one report per workload whose verdict is
// check's on the same manifest, a second Sync writes nothing, and fixing a
// workload's image updates its report and the workload counts.
func TestReconcileWritesReports(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{ControllerManager: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.InstallCRD(ctx, cluster.ModuleFile(t, "github.com/openreports/reports-api", "config/crd/openreports.io_reports.yaml")); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(c.Config)
	const ns = "shop"
	if _, err := c.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	deployment := func(name, image string) *appsv1.Deployment {
		labels := map[string]string{"app": name}
		// Recreate: without a kubelet no new pod becomes ready, so a
		// rolling update would keep the old pods.
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "coredns", Image: image}}}}}}
	}
	for _, d := range []*appsv1.Deployment{deployment("dns", "coredns/coredns:1.8.3"), deployment("dns-current", "coredns/coredns:1.11.1")} {
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	client, err := kube.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	cache := NewCache(client, 0, nil)
	cctx, stop := context.WithCancel(ctx)
	cache.Start(cctx)
	defer func() { stop(); cache.Shutdown() }()
	if !cache.WaitForSync(ctx) {
		t.Fatal("cache did not sync")
	}
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(engine.Options{Catalog: cat, Evidence: sdkdetect.TagOnly{}})
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	r := &Reconciler{Source: cache, Engine: eng, Writer: NewWriter(dynamic.NewForConfigOrDie(c.Config), false, 50, 10), Metrics: metrics}

	// The pods of both Deployments reach the cache (the controller
	// manager makes them; no kubelet runs them, which is enough).
	waitFor(ctx, t, "two workloads with pods", func() bool {
		pods, _ := cache.ListPods(ctx, ns, metav1.ListOptions{})
		return len(pods.Items) == 2
	})
	first, err := r.Sync(ctx)
	if err != nil || first.Created != 2 || first.Workloads != 2 {
		t.Fatalf("first sync: %+v, %v; want 2 reports created", first, err)
	}
	again, err := r.Sync(ctx)
	if err != nil || again.Created+again.Updated != 0 || again.Unchanged != 2 {
		t.Fatalf("second sync: %+v, %v; want nothing written", again, err)
	}

	// The verdicts are check's on the same manifests.
	dyn := dynamic.NewForConfigOrDie(c.Config)
	for _, name := range []string{"dns", "dns-current"} {
		manifest := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n" +
			"      - {name: coredns, image: " + map[string]string{"dns": "coredns/coredns:1.8.3", "dns-current": "coredns/coredns:1.11.1"}[name] + "}\n"
		var w workload.Workload
		_ = workload.Walk([]string{"-"}, strings.NewReader(manifest), workload.Visitor{Workload: func(x workload.Workload) error { w = x; return nil }})
		want := eng.Evaluate(ctx, engine.Subject{Namespace: ns, Pod: &w.Pod}).Verdict
		got, err := dyn.Resource(reports.ReportResource).Namespace(ns).Get(ctx, reports.Name("Deployment", name), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("report of %s: %v", name, err)
		}
		fail, _, _ := unstructured.NestedInt64(got.Object, "summary", "fail")
		pass, _, _ := unstructured.NestedInt64(got.Object, "summary", "pass")
		switch {
		case want == policy.VerdictTooOld && fail != 1:
			t.Errorf("%s: check says too-old, report summary fail %d", name, fail)
		case want == policy.VerdictOK && (fail != 0 || pass != 1):
			t.Errorf("%s: check says ok, report summary fail %d pass %d", name, fail, pass)
		}
		if refs := got.GetOwnerReferences(); len(refs) != 1 || refs[0].Kind != "Deployment" || refs[0].Name != name {
			t.Errorf("%s: owner references %+v", name, refs)
		}
	}
	if v := testutil.ToFloat64(metrics.workloads.WithLabelValues(ns, "too-old")); v != 1 {
		t.Errorf("tokenguard_workloads{too-old} = %v, want 1", v)
	}

	// Fixing the old one: its new pods replace the old, one update.
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "coredns/coredns:1.11.1"
	if _, err := cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the fixed Deployment's pods only", func() bool {
		pods, _ := cache.ListPods(ctx, ns, metav1.ListOptions{})
		n := 0
		for _, p := range pods.Items {
			if strings.HasPrefix(p.Name, "dns-") && !strings.HasPrefix(p.Name, "dns-current") {
				n++
				if p.Spec.Containers[0].Image != "coredns/coredns:1.11.1" {
					return false
				}
			}
		}
		return n == 1
	})
	fixed, err := r.Sync(ctx)
	if err != nil || fixed.Updated != 1 || fixed.Unchanged != 1 {
		t.Fatalf("sync after the fix: %+v, %v; want one update", fixed, err)
	}
	if v := testutil.ToFloat64(metrics.workloads.WithLabelValues(ns, "ok")); v != 2 {
		t.Errorf("tokenguard_workloads{ok} = %v after the fix, want 2", v)
	}
	if v := testutil.ToFloat64(metrics.writes.WithLabelValues("Report", OutcomeUnchanged)); v != 3 {
		t.Errorf("unchanged writes counted %v, want 3", v)
	}

	// The audit sinks saw the default service account's stale token: both
	// workloads run as it, both reports get the result.
	r.StaleTokens = func(context.Context) (map[string]reports.StaleToken, error) {
		return map[string]reports.StaleToken{
			ns + "/default":     {Subject: "system:serviceaccount:shop:default", Status: staletoken.StatusExpiring, DaysLeft: 5},
			"other/default":     {Subject: "system:serviceaccount:other:default", Status: staletoken.StatusRejected, DaysLeft: -1},
			ns + "/not-running": {Subject: "system:serviceaccount:shop:not-running", Status: staletoken.StatusStale, DaysLeft: 60},
		}, nil
	}
	withTokens, err := r.Sync(ctx)
	if err != nil || withTokens.Updated != 2 {
		t.Fatalf("sync with stale tokens: %+v, %v; want both reports updated", withTokens, err)
	}
	got, err := dyn.Resource(reports.ReportResource).Namespace(ns).Get(ctx, reports.Name("Deployment", "dns"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	results, _, _ := unstructured.NestedSlice(got.Object, "results")
	var staleResults []string
	for _, x := range results {
		res := x.(map[string]any)
		if res["rule"] == reports.RuleStaleToken {
			props, _ := res["properties"].(map[string]any)
			staleResults = append(staleResults, fmt.Sprintf("%v %v %v", res["result"], props["subject"], props["daysLeft"]))
		}
	}
	if len(staleResults) != 1 || staleResults[0] != "warn system:serviceaccount:shop:default 5" {
		t.Errorf("stale-token results of dns: %q, want one warn for shop/default with 5 days left", staleResults)
	}

	// Scaled to zero: no pod runs, the report goes.
	d, err = cs.AppsV1().Deployments(ns).Get(ctx, "dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	zero := int32(0)
	d.Spec.Replicas = &zero
	if _, err := cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the scaled-down Deployment's pods to go", func() bool {
		pods, _ := cache.ListPods(ctx, ns, metav1.ListOptions{})
		return len(pods.Items) == 1
	})
	scaled, err := r.Sync(ctx)
	if err != nil || scaled.Deleted != 1 || scaled.Workloads != 1 {
		t.Fatalf("sync after scaling to zero: %+v, %v; want one report deleted", scaled, err)
	}
	if _, err := dyn.Resource(reports.ReportResource).Namespace(ns).Get(ctx, reports.Name("Deployment", "dns"), metav1.GetOptions{}); err == nil {
		t.Error("the report of the Deployment scaled to zero is still there")
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
