package controller

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/workload"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// TestStripPodKeepsWhatIsJudged: a stripped pod converts to the same pod
// spec (and IRSA annotations) as the pod itself, for every pod of the
// admission fixtures.
func TestStripPodKeepsWhatIsJudged(t *testing.T) {
	files, err := filepath.Glob("../../test/testdata/admission/requests/pod-*.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("fixtures: %v (%d)", err, len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var review struct {
			Request struct {
				Object *corev1.Pod `json:"object"`
			} `json:"request"`
		}
		if err := json.Unmarshal(data, &review); err != nil || review.Request.Object == nil {
			continue // not a pod request (delete, undecodable)
		}
		p := review.Request.Object
		p.Annotations = map[string]string{"eks.amazonaws.com/skip-containers": "sidecar", "kubectl.kubernetes.io/restartedAt": "now"}
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning}
		want, _, _ := workload.FromObject(p)
		obj, _ := stripPod(p)
		sp := obj.(*corev1.Pod)
		got, _, _ := workload.FromObject(sp)
		if !reflect.DeepEqual(got.Pod, want.Pod) {
			t.Errorf("%s: stripped pod judged as\n%+v\nwant\n%+v", filepath.Base(f), got.Pod, want.Pod)
		}
		if sp.Status.Phase != "" || len(sp.Annotations) != 1 {
			t.Errorf("%s: kept status %q or annotations %v", filepath.Base(f), sp.Status.Phase, sp.Annotations)
		}
	}
}

// TestCacheServesCollect: against a real API server, the workloads grouped
// from the cache are those grouped from LIST requests, and pod changes
// reach the callback.
func TestCacheServesCollect(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const ns = "shop"
	if _, err := c.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	// A Deployment's ReplicaSet and two pods, made by hand (no controller
	// manager runs), and a bare pod.
	yes := true
	d, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "ghcr.io/acme/api:1"}}}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "api-1",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Selector: d.Spec.Selector, Template: d.Spec.Template}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := func(name string, owner *metav1.OwnerReference) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "api"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "ghcr.io/acme/api:1",
				Env: []corev1.EnvVar{{Name: "AWS_REGION", Value: "us-west-2"}, {Name: "OTHER", Value: "x"}}}}}}
		if owner != nil {
			p.OwnerReferences = []metav1.OwnerReference{*owner}
		}
		return p
	}
	rsRef := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}
	for _, p := range []*corev1.Pod{pod("api-1-a", rsRef), pod("api-1-b", rsRef), pod("debug", nil)} {
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reports",
		Annotations: map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/reports", "other": "dropped"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	client, err := kube.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	var events atomic.Int32
	cache := NewCache(client, 0, func(namespace, name string) { events.Add(1) })
	cctx, stop := context.WithCancel(ctx)
	cache.Start(cctx)
	defer func() { stop(); cache.Shutdown() }()
	if !cache.WaitForSync(ctx) {
		t.Fatal("cache did not sync")
	}
	fromCache, err := clusteraudit.Collect(ctx, cache, clusteraudit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromAPI, err := clusteraudit.Collect(ctx, client, clusteraudit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fromCache) != 2 || !reflect.DeepEqual(fromCache, fromAPI) {
		t.Fatalf("from the cache:\n%+v\nfrom the API:\n%+v", fromCache, fromAPI)
	}
	if w := fromCache[0]; w.Kind != "Deployment" || len(w.Pods) != 2 || w.UID != d.UID || w.APIVersion != "apps/v1" {
		t.Errorf("workloads %+v, want Deployment api (uid %s) with 2 pods", fromCache, d.UID)
	}
	if w := fromCache[1]; w.Kind != "Pod" || w.Name != "debug" || w.UID == "" || w.APIVersion != "v1" {
		t.Errorf("bare pod %+v", w)
	}
	if got := cache.AWSContext(ns, "reports"); !got.Mechanisms.Has(policy.AWSIRSA) {
		t.Errorf("AWSContext(shop, reports) = %+v, want IRSA from the role-arn annotation", got)
	}
	if got := cache.AWSContext(ns, ""); got != (policy.AWSContext{}) {
		t.Errorf("the default service account: %+v, want nothing", got)
	}
	if n := events.Load(); n < 3 {
		t.Errorf("%d pod events, want the 3 pods", n)
	}
	// A pod deleted leaves the cache.
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "debug", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws, _ := clusteraudit.Collect(ctx, cache, clusteraudit.Options{Namespace: ns})
		if len(ws) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted pod still cached: %+v", ws)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
