package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/tokenguard/tokenguard/pkg/admission"
	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/kube/kubetest"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// decisionPod is one pod of a workload: the service account it runs as
// and its images (one container each).
type decisionPod struct {
	sa     string
	images []string
	// tokenSeconds, when set, adds a projected token of that lifetime.
	tokenSeconds int64
}

const (
	dnsTooOld = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1"
	dnsOK     = "registry.k8s.io/coredns/coredns:v1.11.1"
	appImage  = "ghcr.io/acme/app:1.0"
)

// TestOneDecisionEveryCaller runs the same workloads through every caller
// of the one evaluation and the one decision — serve (enforce), the
// namespace preview of the enforce label, check (-o json, its findings
// decided in enforce) and audit --preview-mode enforce — and requires the
// same answer from each: would enforce deny the workload (any of its
// pods)?
func TestOneDecisionEveryCaller(t *testing.T) {
	tests := []struct {
		name      string
		config    string // TokenGuardConfiguration body after kind
		namespace string
		pods      []decisionPod
		denied    bool
	}{
		{name: "too-old add-on", namespace: "prod", pods: []decisionPod{{sa: "dns", images: []string{dnsTooOld}}}, denied: true},
		{name: "current add-on", namespace: "prod", pods: []decisionPod{{sa: "dns", images: []string{dnsOK}}}},
		{name: "unknown allowed by default", namespace: "prod", pods: []decisionPod{{sa: "app", images: []string{appImage}}}},
		{name: "unknown denied when configured", config: "unknown: deny", namespace: "prod", pods: []decisionPod{{sa: "app", images: []string{appImage}}}, denied: true},
		{name: "unknown warned is allowed", config: "unknown: warn", namespace: "prod", pods: []decisionPod{{sa: "app", images: []string{appImage}}}},
		{name: "exempt namespace", config: "exemptions: {namespaces: [legacy]}", namespace: "legacy", pods: []decisionPod{{sa: "dns", images: []string{dnsTooOld}}}},
		{name: "exempt service account", config: `exemptions: {serviceAccounts: ["prod:dns"]}`, namespace: "prod", pods: []decisionPod{{sa: "dns", images: []string{dnsTooOld}}}},
		// The disagreement issue #12 found: pods under two service
		// accounts, one exempt. Admission denies the other's pods, so
		// every caller says denied.
		{name: "two service accounts, one exempt", config: `exemptions: {serviceAccounts: ["prod:old"]}`, namespace: "prod",
			pods: []decisionPod{{sa: "old", images: []string{dnsTooOld}}, {sa: "new", images: []string{dnsTooOld}}}, denied: true},
		{name: "two service accounts, both exempt", config: `exemptions: {serviceAccounts: ["prod:old", "prod:new"]}`, namespace: "prod",
			pods: []decisionPod{{sa: "old", images: []string{dnsTooOld}}, {sa: "new", images: []string{dnsTooOld}}}},
		{name: "exempt image", config: `exemptions: {images: ["602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/**"]}`, namespace: "prod",
			pods: []decisionPod{{sa: "dns", images: []string{dnsTooOld, dnsOK}}}},
		{name: "exempt component", config: `exemptions: {components: [coredns]}`, namespace: "prod", pods: []decisionPod{{sa: "dns", images: []string{dnsTooOld}}}},
		{name: "365-day token", namespace: "prod", pods: []decisionPod{{sa: "dns", images: []string{dnsOK}, tokenSeconds: 31536000}}, denied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgFile := filepath.Join(t.TempDir(), "tokenguard.yaml")
			body := "apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\n" + tt.config + "\n"
			if err := os.WriteFile(cfgFile, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			cc, err := config.LoadCompiled(cfgFile)
			if err != nil {
				t.Fatal(err)
			}
			pods := decisionPods(tt.namespace, tt.pods)
			answers := map[string]bool{
				"serve":   serveDenies(t, cc, pods),
				"preview": previewDenies(t, cc, tt.namespace, pods),
				"check":   checkDenies(t, cfgFile, cc, pods),
				"audit":   auditDenies(t, cc, tt.namespace, pods),
			}
			for caller, denied := range answers {
				if denied != tt.denied {
					t.Errorf("%s: denied %v, want %v", caller, denied, tt.denied)
				}
			}
		})
	}
}

// decisionPods are the workload's pods, each under a ReplicaSet of its own
// (one pod template each) of the Deployment "w".
func decisionPods(namespace string, specs []decisionPod) []*corev1.Pod {
	var pods []*corev1.Pod
	yes := true
	for i, s := range specs {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("w-%d", i),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fmt.Sprintf("w-rs%d", i),
				UID: types.UID(fmt.Sprintf("rs-%d", i)), Controller: &yes}}}}
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		p.Spec.ServiceAccountName = s.sa
		for j, image := range s.images {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", j), Image: image})
		}
		if s.tokenSeconds > 0 {
			secs := s.tokenSeconds
			p.Spec.Volumes = []corev1.Volume{{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &secs}}}}}}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "token", MountPath: "/var/run/secrets/tokens"}}
		}
		pods = append(pods, p)
	}
	return pods
}

func clusterObjects(pods []*corev1.Pod) []runtime.Object {
	yes := true
	var objs []runtime.Object
	for i, p := range pods {
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: fmt.Sprintf("w-rs%d", i), UID: types.UID(fmt.Sprintf("rs-%d", i)),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "w", UID: "deploy-w", Controller: &yes}}}}
		objs = append(objs, rs, p)
	}
	return objs
}

// serveDenies posts each pod's CREATE to /validate/enforce.
func serveDenies(t *testing.T, cc *config.Compiled, pods []*corev1.Pod) bool {
	r := &admission.Reviewer{Engine: newEngine(cc, nil, 0, nil), Unknown: cc.Unknown, Metrics: admission.NewMetrics(prometheus.NewRegistry())}
	h, err := admission.NewHandler(admission.ModeEnforce, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	denied := false
	for _, p := range pods {
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		review := admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{UID: "u", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
				Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, Namespace: p.Namespace, Name: p.Name,
				Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}},
		}
		body, _ := json.Marshal(review)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/validate/enforce", bytes.NewReader(body)))
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
			t.Fatalf("serve: %d %s", rec.Code, rec.Body.String())
		}
		denied = denied || !out.Response.Allowed
	}
	return denied
}

// previewDenies asks the namespace preview, as when the label turns
// enforce.
func previewDenies(t *testing.T, cc *config.Compiled, namespace string, pods []*corev1.Pod) bool {
	p := &clusteraudit.Previewer{Client: kubetest.New(fake.NewClientset(clusterObjects(pods)...)), Engine: newEngine(cc, nil, 0, nil), Unknown: cc.Unknown}
	lines, total, err := p.PreviewEnforce(context.Background(), namespace, 5)
	if err != nil {
		t.Fatal(err)
	}
	if total > 0 && (len(lines) == 0 || !strings.HasPrefix(lines[0], "Deployment/w: ")) {
		t.Errorf("preview lines %q", lines)
	}
	return total > 0
}

// checkDenies runs `check -o json --config` on the pods' manifests and
// decides its findings as enforce would: what check reports is what
// admission decides.
func checkDenies(t *testing.T, cfgFile string, cc *config.Compiled, pods []*corev1.Pod) bool {
	var manifests []string
	for _, p := range pods {
		y, err := yaml.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		manifests = append(manifests, string(y))
	}
	_, out, errOut := runCLI(t, strings.Join(manifests, "---\n"), "check", "-o", "json", "--config", cfgFile, "-")
	rep := decodeReport(t, out)
	if len(rep.Results) != len(pods) {
		t.Fatalf("check: %d results for %d pods\n%s", len(rep.Results), len(pods), errOut)
	}
	denied := false
	for _, r := range rep.Results {
		_, d := wouldDeny(cc, r.Findings)
		denied = denied || d
	}
	return denied
}

// auditDenies runs audit's enforce preview over the cluster's pods.
func auditDenies(t *testing.T, cc *config.Compiled, namespace string, pods []*corev1.Pod) bool {
	ws, err := clusteraudit.Collect(context.Background(), kubetest.New(fake.NewClientset(clusterObjects(pods)...)), clusteraudit.Options{Namespace: namespace})
	if err != nil {
		t.Fatal(err)
	}
	clusteraudit.Judge(context.Background(), newEngine(cc, nil, 0, nil), ws)
	doc := clusteraudit.BuildReport(ws, clusteraudit.ReportOptions{Namespace: namespace, Preview: true, Unknown: cc.Unknown})
	return len(*doc.WouldBeDenied) > 0
}

func wouldDeny(cc *config.Compiled, findings []policy.Finding) (engine.Decision, bool) {
	return engine.WouldDeny(cc.Unknown, findings)
}
