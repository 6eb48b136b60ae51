package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/tokenguard/tokenguard/deploy/crds"
	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/auditsink"
	"github.com/tokenguard/tokenguard/pkg/reports"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// TestEndToEndControllerEvidenceAndStaleTokens: the whole picture through
// real processes and a real API server. A `tokenguard serve` replica's
// audit sink receives a stale-token event of the service account shop/api
// and publishes it (its ConfigMap); `tokenguard controller`, with registry
// evidence on, reports the Deployment running as shop/api with the
// client-go version its image's SBOM names (too-old: fail) and the stale
// token's days left with the rollout restart command, and writes the
// image's ImageEvidence, marked running.
func TestEndToEndControllerEvidenceAndStaleTokens(t *testing.T) {
	ctx, c, client, bin, work := ownControlPlane(t)
	for _, crd := range [][]byte{crds.ImageEvidenceYAML, cluster.ModuleFile(t, "github.com/openreports/reports-api", "config/crd/openreports.io_reports.yaml")} {
		if err := c.InstallCRD(ctx, crd); err != nil {
			t.Fatal(err)
		}
	}
	_, image, config := sbomRegistry(t, work)

	// A webhook replica with the audit sink, publishing as Pod
	// tokenguard-a of namespace default (the downward API's variables).
	sink := newAuditSinkFiles(t, work)
	t.Setenv("POD_NAME", "tokenguard-a")
	t.Setenv("POD_NAMESPACE", "default")
	serve, err := NewProcess(bin, append(sink.args(), "--kubeconfig", c.Kubeconfig, "--config", config, "--stale-tokens-publish-interval", "200ms")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Stop()

	// The API server's audit backend would send this: shop/api's pods use
	// a token 85 days past its warning threshold (5 days minus an hour
	// left before Amazon EKS rejects it).
	event := map[string]any{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "e2e-1", "stage": "ResponseComplete",
		"user":        map[string]any{"username": "system:serviceaccount:shop:api"},
		"annotations": map[string]string{"authentication.k8s.io/stale-token": fmt.Sprintf("subject: system:serviceaccount:shop:api, seconds after warning threshold: %d", 85*86400)}}
	body, _ := json.Marshal(map[string]any{"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": []any{event}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+sink.addr+"/audit", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sink.token)
	req.Header.Set("Content-Type", "application/json")
	httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the sink on 127.0.0.1, a test certificate
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /audit: %s", resp.Status)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		cm, err := client.CoreV1().ConfigMaps("default").Get(ctx, auditsink.PublishedName("tokenguard-a"), metav1.GetOptions{})
		return err == nil && strings.Contains(cm.Data[auditsink.PublishedKey], `"serviceAccount":"api"`), nil
	}); err != nil {
		t.Fatalf("the sink's observations were not published:\n%s", tail(serve.Output(), 30))
	}

	// The workload: a Deployment running as shop/api.
	const ns = "shop"
	if _, err := c.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "api"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "api"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{ServiceAccountName: "api", Containers: []corev1.Container{{Name: "api", Image: image}}}}}}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	out := &syncBuffer{}
	ctl := exec.Command(bin, "controller", "--kubeconfig", c.Kubeconfig, "--config", config, "--lease-namespace", "default", "--identity", "controller-a",
		"--metrics-addr", "127.0.0.1:0", "--interval", "6s", "--log-format", "text")
	ctl.Stdout, ctl.Stderr = out, out
	if err := ctl.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = ctl.Process.Signal(syscall.SIGTERM)
		_ = ctl.Wait()
		if t.Failed() {
			t.Logf("controller:\n%s", tail(out.String(), 40))
		}
	}()

	dyn := dynamic.NewForConfigOrDie(c.Config)
	var results []any
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		r, err := dyn.Resource(reports.ReportResource).Namespace(ns).Get(ctx, reports.Name("Deployment", "api"), metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		results, _, _ = unstructured.NestedSlice(r.Object, "results")
		return len(results) >= 2, nil
	}); err != nil {
		t.Fatalf("no report with two results for Deployment shop/api: %v", results)
	}
	var sdk, stale string
	for _, x := range results {
		data, _ := json.Marshal(x)
		res := x.(map[string]any)
		switch {
		case res["rule"] == reports.RuleStaleToken:
			stale = string(data)
		case strings.Contains(string(data), "v0.14.2"):
			sdk = string(data)
		}
	}
	if !strings.Contains(sdk, `"result":"fail"`) || !strings.Contains(sdk, "sbom:") {
		t.Errorf("client-go result %s: want fail, from the SBOM", sdk)
	}
	var staleResult struct {
		Result     string            `json:"result"`
		Properties map[string]string `json:"properties"`
	}
	_ = json.Unmarshal([]byte(stale), &staleResult)
	if staleResult.Result != "warn" || staleResult.Properties["daysLeft"] != "4" || staleResult.Properties["restart"] != "kubectl rollout restart deployment/api -n shop" {
		t.Errorf("stale-token result %s: want warn, 4 days left and the rollout restart command", stale)
	}

	// The image's evidence is shared, and marked running.
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := dyn.Resource(v1alpha1.ImageEvidenceResource).List(ctx, metav1.ListOptions{})
		if err != nil || len(l.Items) != 1 {
			return false, nil
		}
		seen, _, _ := unstructured.NestedString(l.Items[0].Object, "status", "lastSeenRunning")
		summary, _, _ := unstructured.NestedString(l.Items[0].Object, "status", "summary")
		return seen != "" && strings.Contains(summary, "client-go v0.14.2"), nil
	}); err != nil {
		t.Error("no ImageEvidence of the running image with client-go v0.14.2")
	}
}
