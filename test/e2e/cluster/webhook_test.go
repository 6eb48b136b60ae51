package cluster

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(code int, agent, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.msgs, "\n")
}

// testWebhook shows how a test registers a validating webhook served on
// 127.0.0.1: a URL clientConfig, a serving certificate from
// Cluster.ServingCert and Cluster.CAPEM as caBundle. Pods labelled
// deny=yes are denied, others get a warning.
func testWebhook(t *testing.T, ctx context.Context, c *Cluster, ns string) {
	certPEM, keyPEM, err := c.ServingCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		var pod corev1.Pod
		_ = json.Unmarshal(review.Request.Object.Raw, &pod)
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		if pod.Labels["deny"] == "yes" {
			resp.Allowed = false
			resp.Result = &metav1.Status{Code: http.StatusForbidden, Message: "e2e webhook says no"}
		} else {
			resp.Warnings = []string{"e2e webhook saw " + pod.Name}
		}
		review.Response = resp
		review.Request = nil
		_ = json.NewEncoder(w).Encode(&review)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()

	cs := kubernetes.NewForConfigOrDie(c.Config)
	url := srv.URL + "/validate"
	none := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	timeout := int32(5)
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-cluster"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "pods.e2e.tokenguard.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: c.CAPEM},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"e2e": "cluster"}},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create webhook configuration: %v\n%s", err, c.Logs())
	}
	defer cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), vwc.Name, metav1.DeleteOptions{})

	pod := func(name string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10"}}},
		}
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

	// The API server picks the configuration up asynchronously: retry a
	// dry-run create that must be denied until it is.
	registered := time.Now()
	for {
		_, err := cs.CoreV1().Pods(ns).Create(ctx, pod("denied", map[string]string{"deny": "yes"}), dryRun)
		if err != nil {
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "e2e webhook says no") {
				t.Fatalf("denied pod: unexpected error %v\n%s", err, c.Logs())
			}
			t.Logf("webhook active after %s: %v", time.Since(registered).Round(time.Millisecond), err)
			break
		}
		if ctx.Err() != nil || time.Since(registered) > 30*time.Second {
			t.Fatalf("webhook never denied the pod\n%s", c.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}

	w := &warnings{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = w
	if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Pods(ns).Create(ctx, pod("warned", nil), dryRun); err != nil {
		t.Fatalf("allowed pod: %v", err)
	}
	if got := w.all(); !strings.Contains(got, "e2e webhook saw warned") {
		t.Errorf("warnings = %q, want the webhook's", got)
	}
}
