package clusteraudit

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/kube/kubetest"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

const (
	dnsOld = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1"
	dnsNew = "registry.k8s.io/coredns/coredns:v1.11.1"
)

func ref(kind, name string) []metav1.OwnerReference {
	t := true
	return []metav1.OwnerReference{{Kind: kind, Name: name, UID: types.UID(kind + "-" + name), Controller: &t}}
}

func meta(ns, name, ownerKind, ownerName string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Namespace: ns, Name: name}
	if ownerKind != "" {
		m.OwnerReferences = ref(ownerKind, ownerName)
	}
	return m
}

func rs(ns, name, ownerKind, ownerName string) *appsv1.ReplicaSet {
	r := &appsv1.ReplicaSet{ObjectMeta: meta(ns, name, ownerKind, ownerName)}
	r.UID = types.UID("ReplicaSet-" + name)
	return r
}

func job(ns, name, ownerKind, ownerName string) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: meta(ns, name, ownerKind, ownerName)}
	j.UID = types.UID("Job-" + name)
	return j
}

func pod(ns, name, ownerKind, ownerName, sa, image string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: meta(ns, name, ownerKind, ownerName)}
	p.Spec.ServiceAccountName = sa
	p.Spec.Containers = []corev1.Container{{Name: "coredns", Image: image}}
	return p
}

func fixture() []runtime.Object {
	sts0 := pod("apps", "db-0", "StatefulSet", "db", "db", dnsNew)
	sts1 := pod("apps", "db-1", "StatefulSet", "db", "db", dnsNew)
	sts0.Labels = map[string]string{appsv1.ControllerRevisionHashLabelKey: "db-7f"}
	sts1.Labels = map[string]string{appsv1.ControllerRevisionHashLabelKey: "db-7f"}
	return []runtime.Object{
		rs("apps", "web-new", "Deployment", "web"),
		rs("apps", "web-old", "Deployment", "web"),
		pod("apps", "web-new-a", "ReplicaSet", "web-new", "web", dnsNew),
		pod("apps", "web-new-b", "ReplicaSet", "web-new", "web", dnsNew),
		pod("apps", "web-old-a", "ReplicaSet", "web-old", "web", dnsOld),
		job("apps", "nightly-123", "CronJob", "nightly"),
		pod("apps", "nightly-123-x", "Job", "nightly-123", "", dnsOld),
		job("apps", "once", "", ""),
		pod("apps", "once-y", "Job", "once", "", dnsNew),
		pod("apps", "debug", "", "", "", dnsOld),
		sts0, sts1,
		pod("apps", "dns-n1", "DaemonSet", "dns", "", dnsNew),
		rs("apps", "orphan", "", ""),
		pod("apps", "orphan-z", "ReplicaSet", "orphan", "", dnsNew),
		pod("apps", "gone-q", "ReplicaSet", "gone", "", dnsNew), // its ReplicaSet is not listed
		pod("apps", "legacy-r", "ReplicationController", "legacy", "", dnsNew),
		pod("kube-system", "etcd-node1", "Node", "node1", "", dnsNew),
		pod("other", "web-p", "ReplicaSet", "web-other", "", dnsNew),
		rs("other", "web-other", "Deployment", "web"),
	}
}

type summary struct {
	Kind, Namespace, Name string
	Pods, Evaluated, SAs  string
}

func summarize(ws []Workload) []summary {
	var out []summary
	for _, w := range ws {
		out = append(out, summary{w.Kind, w.Namespace, w.Name,
			strings.Join(w.Pods, ","), strings.Join(w.Evaluated, ","), strings.Join(w.ServiceAccounts, ",")})
	}
	return out
}

func TestCollectGroupsByOwningWorkload(t *testing.T) {
	client := fake.NewClientset(fixture()...)
	ws, err := Collect(context.Background(), kubetest.New(client), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{"CronJob", "apps", "nightly", "nightly-123-x", "nightly-123-x", "default"},
		{"DaemonSet", "apps", "dns", "dns-n1", "dns-n1", "default"},
		// two ReplicaSets mid-rollout: one pod judged per template
		{"Deployment", "apps", "web", "web-new-a,web-new-b,web-old-a", "web-new-a,web-old-a", "web"},
		{"Job", "apps", "once", "once-y", "once-y", "default"},
		{"Pod", "apps", "debug", "debug", "debug", "default"},
		{"ReplicaSet", "apps", "gone", "gone-q", "gone-q", "default"},
		{"ReplicaSet", "apps", "orphan", "orphan-z", "orphan-z", "default"},
		{"ReplicationController", "apps", "legacy", "legacy-r", "legacy-r", "default"},
		{"StatefulSet", "apps", "db", "db-0,db-1", "db-0", "db"},
		{"Pod", "kube-system", "etcd-node1", "etcd-node1", "etcd-node1", "default"},
		{"Deployment", "other", "web", "web-p", "web-p", "default"},
	}
	if got := summarize(ws); !reflect.DeepEqual(got, want) {
		t.Errorf("workloads:\n got %+v\nwant %+v", got, want)
	}
	// One LIST per resource and scope; no GET per pod.
	var verbs []string
	for _, a := range client.Actions() {
		verbs = append(verbs, a.GetVerb()+" "+a.GetResource().Resource+" ns="+a.GetNamespace())
	}
	wantVerbs := []string{"list pods ns=", "list replicasets ns=", "list jobs ns="}
	if !reflect.DeepEqual(verbs, wantVerbs) {
		t.Errorf("API calls = %q, want %q", verbs, wantVerbs)
	}
}

func TestCollectNamespaceScope(t *testing.T) {
	client := fake.NewClientset(fixture()...)
	ws, err := Collect(context.Background(), kubetest.New(client), Options{Namespace: "other"})
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{{"Deployment", "other", "web", "web-p", "web-p", "default"}}
	if got := summarize(ws); !reflect.DeepEqual(got, want) {
		t.Errorf("workloads = %+v, want %+v", got, want)
	}
	var verbs []string
	for _, a := range client.Actions() {
		verbs = append(verbs, a.GetVerb()+" "+a.GetResource().Resource+" ns="+a.GetNamespace())
	}
	// no Job owns a pod here: jobs are not listed
	if want := []string{"list pods ns=other", "list replicasets ns=other"}; !reflect.DeepEqual(verbs, want) {
		t.Errorf("API calls = %q, want %q", verbs, want)
	}
}

func TestCollectBarePodsListOnlyPods(t *testing.T) {
	client := fake.NewClientset(pod("a", "p1", "", "", "", dnsNew))
	if _, err := Collect(context.Background(), kubetest.New(client), Options{}); err != nil {
		t.Fatal(err)
	}
	if n := len(client.Actions()); n != 1 {
		t.Errorf("%d API calls, want 1 (pods only): %v", n, client.Actions())
	}
}

func TestCollectPaginates(t *testing.T) {
	var objs []runtime.Object
	for i := range 7 {
		objs = append(objs, pod("ns", fmt.Sprintf("p%d", i), "", "", "", dnsNew))
	}
	client := fake.NewClientset()
	var calls []metav1.ListOptions
	client.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		lo := a.(k8stesting.ListActionImpl).ListOptions
		calls = append(calls, lo)
		start := 0
		if lo.Continue != "" {
			start, _ = strconv.Atoi(lo.Continue)
		}
		end := min(start+int(lo.Limit), len(objs))
		l := &corev1.PodList{}
		for _, o := range objs[start:end] {
			l.Items = append(l.Items, *o.(*corev1.Pod))
		}
		if end < len(objs) {
			l.Continue = strconv.Itoa(end)
		}
		return true, l, nil
	})
	ws, err := Collect(context.Background(), kubetest.New(client), Options{PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 7 {
		t.Errorf("%d workloads, want 7", len(ws))
	}
	want := []string{"3/", "3/3", "3/6"}
	var got []string
	for _, c := range calls {
		got = append(got, fmt.Sprintf("%d/%s", c.Limit, c.Continue))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list calls (limit/continue) = %q, want %q", got, want)
	}
}

func TestCollectListError(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("boom")
	})
	_, err := Collect(context.Background(), kubetest.New(client), Options{})
	if err == nil || !strings.Contains(err.Error(), "cannot list pods in all namespaces: boom") {
		t.Errorf("err = %v, want cannot list pods in all namespaces: boom", err)
	}
}

func judged(t *testing.T) []Workload {
	t.Helper()
	client := fake.NewClientset(fixture()...)
	ws, err := Collect(context.Background(), kubetest.New(client), Options{Namespace: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	Judge(context.Background(), engine.New(engine.Options{Catalog: catalog, Evidence: sdkdetect.TagOnly{}}), ws)
	return ws
}

// pullerEvidence answers as a registry would for who pulls: the service
// account "builder" of namespace apps holds the credentials.
type pullerEvidence struct{ seen *[]string }

func (e pullerEvidence) Evidence(_ context.Context, p policy.Puller, image string) *policy.Evidence {
	*e.seen = append(*e.seen, p.Namespace+"/"+p.ServiceAccount)
	ev := sdkdetect.TagEvidence(image)
	if p.Namespace == "apps" && p.ServiceAccount == "builder" {
		ev.SBOM = "sbom:spdx-referrer"
		ev.Packages = []policy.Package{{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", Source: "sbom:spdx-referrer"}}
	} else {
		ev.Unavailable = "the registry asked for credentials"
	}
	return ev
}

// TestJudgePuller: each pod spec's lookups are told who pulls (its
// namespace and service account), as in admission.
func TestJudgePuller(t *testing.T) {
	client := fake.NewClientset(
		pod("apps", "app-0", "", "", "builder", "registry.example.com/acme/app:1.0"),
		pod("apps", "app-1", "", "", "", "registry.example.com/acme/app:1.0"))
	ws, err := Collect(context.Background(), kubetest.New(client), Options{Namespace: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	Judge(context.Background(), engine.New(engine.Options{Catalog: catalog, Evidence: pullerEvidence{&seen}}), ws)
	if !reflect.DeepEqual(seen, []string{"apps/builder", "apps/"}) {
		t.Fatalf("lookups by %q, want [apps/builder apps/] (an empty service account is the namespace's default)", seen)
	}
	app := find(ws, "Pod", "app-0")
	if app.Verdict != policy.VerdictTooOld || app.Findings[0].Version != "v0.14.2" || app.Findings[0].Component != "k8s.io/client-go" {
		t.Errorf("app-0 with credentials = %s, want too-old from the SBOM; findings %+v", app.Verdict, app.Findings)
	}
	if app := find(ws, "Pod", "app-1"); app.Verdict != policy.VerdictUnknown {
		t.Errorf("app-1 without credentials = %s, want unknown", app.Verdict)
	}
}

func find(ws []Workload, kind, name string) *Workload {
	for i := range ws {
		if ws[i].Kind == kind && ws[i].Name == name {
			return &ws[i]
		}
	}
	return nil
}

func TestJudgeUnionOfTemplates(t *testing.T) {
	ws := judged(t)
	web := find(ws, "Deployment", "web")
	if web.Verdict != policy.VerdictTooOld {
		t.Errorf("web (old ReplicaSet still running) = %s, want too-old; findings %+v", web.Verdict, web.Findings)
	}
	if db := find(ws, "StatefulSet", "db"); db.Verdict != policy.VerdictOK {
		t.Errorf("db = %s, want ok; findings %+v", db.Verdict, db.Findings)
	}
	if fix := RealFix(web); !strings.Contains(fix, "upgrade coredns v1.8.3-eksbuild.1 to ") || !strings.Contains(fix, `container "coredns"`) {
		t.Errorf("RealFix(web) = %q", fix)
	}
	if fix := RealFix(find(ws, "StatefulSet", "db")); fix != NoTooOldFix {
		t.Errorf("RealFix(db) = %q, want %q", fix, NoTooOldFix)
	}
}

func TestRestart(t *testing.T) {
	tests := []struct {
		w    Workload
		want string
	}{
		{Workload{Kind: "Deployment", Namespace: "n", Name: "web"}, "kubectl rollout restart deployment/web -n n"},
		{Workload{Kind: "StatefulSet", Namespace: "n", Name: "db"}, "kubectl rollout restart statefulset/db -n n"},
		{Workload{Kind: "DaemonSet", Namespace: "n", Name: "ds"}, "kubectl rollout restart daemonset/ds -n n"},
		{Workload{Kind: "Pod", Namespace: "n", Name: "debug", Pods: []string{"debug"}}, "delete and recreate pod debug -n n"},
		{Workload{Kind: "Job", Namespace: "n", Name: "once", Pods: []string{"once-y"}}, "delete and recreate pod once-y -n n"},
		{Workload{Kind: "CronJob", Namespace: "n", Name: "c", Pods: []string{"c-1-a", "c-2-b"}}, "delete and recreate pod c-1-a c-2-b -n n"},
		{Workload{Kind: "ReplicaSet", Namespace: "n", Name: "r", Pods: []string{"r-a"}}, "kubectl delete pod r-a -n n (the ReplicaSet recreates them)"},
	}
	for _, tt := range tests {
		if got := Restart(&tt.w); got != tt.want {
			t.Errorf("Restart(%s) = %q, want %q", tt.w.Kind, got, tt.want)
		}
	}
}

func TestJoinStaleTokens(t *testing.T) {
	ws := judged(t)
	subjects := []staletoken.Subject{
		{Subject: "system:serviceaccount:apps:web", Namespace: "apps", ServiceAccount: "web", Status: staletoken.StatusRejected, DaysLeft: 0},
		{Subject: "system:serviceaccount:apps:default", Namespace: "apps", ServiceAccount: "default", Status: staletoken.StatusExpiring, DaysLeft: 5},
		{Subject: "system:serviceaccount:apps:ghost", Namespace: "apps", ServiceAccount: "ghost", Status: staletoken.StatusStale, DaysLeft: 40},
		{Subject: "system:serviceaccount:other:default", Namespace: "other", ServiceAccount: "default", Status: staletoken.StatusStale, DaysLeft: 40},
	}
	got := JoinStaleTokens(subjects, ws, "apps")
	if len(got) != 3 {
		t.Fatalf("%d subjects, want 3 (other namespace dropped): %+v", len(got), got)
	}
	web := got[0]
	if web.Status != staletoken.StatusRejected || len(web.Workloads) != 1 ||
		web.Workloads[0].Restart != "kubectl rollout restart deployment/web -n apps" ||
		!strings.Contains(web.RealFix, "upgrade coredns v1.8.3-eksbuild.1 to ") {
		t.Errorf("web subject = %+v", web)
	}
	def := got[1]
	restarts := map[string]string{}
	for _, w := range def.Workloads {
		restarts[w.Kind+"/"+w.Name] = w.Restart
	}
	wantRestarts := map[string]string{
		"CronJob/nightly":              "delete and recreate pod nightly-123-x -n apps",
		"DaemonSet/dns":                "kubectl rollout restart daemonset/dns -n apps",
		"Job/once":                     "delete and recreate pod once-y -n apps",
		"Pod/debug":                    "delete and recreate pod debug -n apps",
		"ReplicaSet/gone":              "kubectl delete pod gone-q -n apps (the ReplicaSet recreates them)",
		"ReplicaSet/orphan":            "kubectl delete pod orphan-z -n apps (the ReplicaSet recreates them)",
		"ReplicationController/legacy": "kubectl delete pod legacy-r -n apps (the ReplicationController recreates them)",
	}
	if !reflect.DeepEqual(restarts, wantRestarts) {
		t.Errorf("restarts of apps:default =\n%v\nwant\n%v", restarts, wantRestarts)
	}
	if !strings.Contains(def.RealFix, "CronJob/nightly, Pod/debug: upgrade coredns") || !strings.Contains(def.RealFix, NoTooOldFix) {
		t.Errorf("realFix of apps:default = %q", def.RealFix)
	}
	if ghost := got[2]; len(ghost.Workloads) != 0 || ghost.RealFix != NoWorkloadFix {
		t.Errorf("ghost = %+v", ghost)
	}
}

// TestCustomControllers: pods of a ReplicaSet or Job whose own controller
// is a custom resource (Argo Rollouts' Rollout, KEDA's ScaledJob) are
// grouped under that controller, one template per ReplicaSet or Job, and a
// Rollout is restarted with the Argo Rollouts plugin.
func TestCustomControllers(t *testing.T) {
	client := fake.NewClientset(
		rs("apps", "web-6d4f", "Rollout", "web"),
		rs("apps", "web-7b9c", "Rollout", "web"),
		pod("apps", "web-6d4f-a", "ReplicaSet", "web-6d4f", "web", dnsOld),
		pod("apps", "web-7b9c-a", "ReplicaSet", "web-7b9c", "web", dnsNew),
		job("apps", "worker-x1", "ScaledJob", "worker"),
		pod("apps", "worker-x1-p", "Job", "worker-x1", "", dnsNew),
	)
	ws, err := Collect(context.Background(), kubetest.New(client), Options{Namespace: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	got := summarize(ws)
	want := []summary{
		{"Rollout", "apps", "web", "web-6d4f-a,web-7b9c-a", "web-6d4f-a,web-7b9c-a", "web"},
		{"ScaledJob", "apps", "worker", "worker-x1-p", "worker-x1-p", "default"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("workloads:\n%+v\nwant\n%+v", got, want)
	}
	if r := Restart(&ws[0]); r != "kubectl argo rollouts restart web -n apps" {
		t.Errorf("Restart(Rollout) = %q", r)
	}
}
