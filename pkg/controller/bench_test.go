package controller

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/reports"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

// memSource is a clusteraudit.Client over fixed lists.
type memSource struct {
	pods []corev1.Pod
	rs   []appsv1.ReplicaSet
}

func (m *memSource) ListPods(context.Context, string, metav1.ListOptions) (*corev1.PodList, error) {
	return &corev1.PodList{Items: m.pods}, nil
}
func (m *memSource) ListReplicaSets(context.Context, string, metav1.ListOptions) (*appsv1.ReplicaSetList, error) {
	return &appsv1.ReplicaSetList{Items: m.rs}, nil
}
func (m *memSource) ListJobs(context.Context, string, metav1.ListOptions) (*batchv1.JobList, error) {
	return &batchv1.JobList{}, nil
}

// fleet is pods Deployments of 10 pods each, over images distinct images
// (CoreDNS tags, judged by tag: half too old), in 20 namespaces.
func fleet(pods, images int) *memSource {
	m := &memSource{}
	yes := true
	for d := 0; d < pods/10; d++ {
		ns := fmt.Sprintf("team-%02d", d%20)
		dep := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: fmt.Sprintf("app-%d", d), UID: types.UID(fmt.Sprintf("d-%d", d)), Controller: &yes}
		rsUID := types.UID(fmt.Sprintf("rs-%d", d))
		m.rs = append(m.rs, appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: dep.Name + "-1", Namespace: ns, UID: rsUID, OwnerReferences: []metav1.OwnerReference{dep}}})
		image := fmt.Sprintf("registry.example.com/team/coredns-%d:1.%d.0", d%images, 7+d%4)
		for p := 0; p < 10; p++ {
			m.pods = append(m.pods, corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-1-%d", dep.Name, p), Namespace: ns, UID: types.UID(fmt.Sprintf("p-%d-%d", d, p)),
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: dep.Name + "-1", UID: rsUID, Controller: &yes}}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "dns", Image: image}}},
			})
		}
	}
	return m
}

// BenchmarkSync: one pass over 10,000 pods of 1,000 Deployments and 1,000
// images (tag evidence), the reports kept by a fake dynamic client: the
// first pass writes every report, the next ones none. Reported: time and
// allocations of a pass with nothing to write (the steady state), and the
// heap the fleet and the reports take.
func BenchmarkSync(b *testing.B) {
	src := fleet(10000, 1000)
	cat, err := policy.DefaultCatalog()
	if err != nil {
		b.Fatal(err)
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(kruntime.NewScheme(),
		map[schema.GroupVersionResource]string{reports.ReportResource: "ReportList"})
	r := &Reconciler{Source: src, Engine: engine.New(engine.Options{Catalog: cat, Evidence: sdkdetect.TagOnly{}}), Writer: NewWriter(dyn, false, 1e9, 1e6)}
	ctx := context.Background()
	first, err := r.Sync(ctx)
	if err != nil || first.Created != 1000 {
		b.Fatalf("first pass: %+v %v", first, err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap := float64(ms.HeapInuse) / (1 << 20)
	for b.Loop() {
		res, err := r.Sync(ctx)
		if err != nil || res.Unchanged != 1000 {
			b.Fatalf("steady pass: %+v %v", res, err)
		}
	}
	b.ReportMetric(heap, "heap-MiB")
}
