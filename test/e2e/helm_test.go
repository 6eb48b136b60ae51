package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/tokenguard/tokenguard/charts"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// The CRDs of the kinds the chart renders besides its own, from the
// projects' Go modules at pinned versions (the module proxy serves these;
// prometheus-operator's CRDs live in its main module, which the product's
// go.mod does not use).
var helmThirdPartyCRDs = []struct{ module, version, path string }{
	{"github.com/cert-manager/cert-manager", "v1.21.2", "deploy/crds/cert-manager.io_issuers.yaml"},
	{"github.com/cert-manager/cert-manager", "v1.21.2", "deploy/crds/cert-manager.io_certificates.yaml"},
	{"github.com/prometheus-operator/prometheus-operator", "v0.85.0", "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"},
	{"github.com/prometheus-operator/prometheus-operator", "v0.85.0", "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"},
}

var helmTestCRDs = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// TestHelmChart puts the Helm chart (charts/tokenguard) to a real
// kube-apiserver: every object that helm template renders for the default
// and the all-on values passes a server-side dry-run apply (with
// cert-manager's and the Prometheus Operator's CRDs installed, so their
// objects are checked against the real schemas); then helm install and
// helm upgrade run against it, and the certificates the chart makes stay
// the same across upgrades (read back with lookup) until the renewal
// window or a new selfSigned.renewal, and the webhook configuration always trusts
// the Secret's CA.
func TestHelmChart(t *testing.T) {
	helmPath, err := charts.HelmPath()
	if errors.Is(err, charts.ErrNoHelm) {
		t.Skipf("skipping the Helm chart against a real API server: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	c := cluster.StartForTest(t, cluster.Options{Log: testLog{t}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, crd := range helmThirdPartyCRDs {
		if err := c.InstallCRD(ctx, cluster.ModuleVersionFile(t, crd.module, crd.version, crd.path)); err != nil {
			t.Fatalf("%s@%s %s: %v", crd.module, crd.version, crd.path, err)
		}
	}
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const ns = "tokenguard-system"
	// As helm install --create-namespace makes it.
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	helm := &charts.Helm{Path: helmPath, Home: t.TempDir(), Env: []string{"KUBECONFIG=" + c.Kubeconfig}}

	for _, values := range []string{"default", "all-on"} {
		t.Run("server-side dry-run of "+values, func(t *testing.T) {
			objs, err := helm.Template("tokenguard", ns, "-f", filepath.Join(charts.ChartDir(), "ci", values+"-values.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			helmDryRunApply(ctx, t, c, objs)
		})
	}

	// The control: the dry-run holds objects to the installed schemas, so a
	// misspelt field of a cert-manager or Prometheus Operator object fails.
	t.Run("server-side dry-run rejects fields the CRDs do not have", func(t *testing.T) {
		objs, err := helm.Template("tokenguard", ns, "-f", filepath.Join(charts.ChartDir(), "ci", "all-on-values.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"Certificate", "ServiceMonitor", "PrometheusRule"} {
			for _, o := range objs {
				if o["kind"] != kind {
					continue
				}
				bad := (&unstructured.Unstructured{Object: o}).DeepCopy()
				if err := unstructured.SetNestedField(bad.Object, "x", "spec", "misspelt"); err != nil {
					t.Fatal(err)
				}
				if err := helmDryRunApplyOne(ctx, c, bad.Object); err == nil {
					t.Errorf("%s with spec.misspelt was accepted: the dry-run does not check against its CRD", kind)
				}
			}
		}
	})

	t.Run("install and upgrade keep the certificates", func(t *testing.T) {
		chart := charts.ChartDir()
		tls := func(t *testing.T) *corev1.Secret {
			t.Helper()
			s, err := client.CoreV1().Secrets(ns).Get(ctx, "tokenguard-tls", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			vwc, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "tokenguard", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			helmTrustsSecret(t, vwc, s)
			return s
		}
		run := func(t *testing.T, args ...string) {
			t.Helper()
			if _, err := helm.Run(args...); err != nil {
				t.Fatal(err)
			}
		}
		run(t, "install", "tokenguard", chart, "-n", ns)
		first := tls(t)
		if first.Annotations["tokenguard.io/not-after"] == "" {
			t.Errorf("no tokenguard.io/not-after on the Secret: %v", first.Annotations)
		}
		run(t, "upgrade", "tokenguard", chart, "-n", ns)
		if got := tls(t); !helmSameCerts(got, first) {
			t.Error("helm upgrade made new certificates; it must keep those of the Secret until the renewal window")
		}
		// Within the renewal window (here: the window is longer than the
		// validity), an upgrade renews them.
		run(t, "upgrade", "tokenguard", chart, "-n", ns, "--set", "selfSigned.renewBeforeDays=400")
		second := tls(t)
		if helmSameCerts(second, first) {
			t.Error("helm upgrade within selfSigned.renewBeforeDays of expiry kept the old certificates")
		}
		run(t, "upgrade", "tokenguard", chart, "-n", ns, "--set", "selfSigned.renewBeforeDays=30")
		if got := tls(t); !helmSameCerts(got, second) {
			t.Error("the renewed certificates were replaced again outside the renewal window")
		}
		// A new selfSigned.renewal renews once; upgrades that reuse the
		// value (helm upgrade without values reuses the last ones) keep them.
		run(t, "upgrade", "tokenguard", chart, "-n", ns, "--set", "selfSigned.renewal=2026-12-03")
		third := tls(t)
		if helmSameCerts(third, second) {
			t.Error("helm upgrade --set selfSigned.renewal=<new value> kept the old certificates")
		}
		if got := third.Annotations["tokenguard.io/renewal"]; got != "2026-12-03" {
			t.Errorf("annotation tokenguard.io/renewal %q, want the value of selfSigned.renewal", got)
		}
		run(t, "upgrade", "tokenguard", chart, "-n", ns)
		if got := tls(t); !helmSameCerts(got, third) {
			t.Error("an upgrade reusing selfSigned.renewal renewed the certificates again")
		}
		run(t, "uninstall", "tokenguard", "-n", ns)
		if _, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "tokenguard", metav1.GetOptions{}); err == nil {
			t.Error("the webhook configuration outlived helm uninstall")
		}
		dyn, err := dynamic.NewForConfig(c.Config)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dyn.Resource(helmTestCRDs).Get(ctx, "imageevidences.tokenguard.io", metav1.GetOptions{}); err != nil {
			t.Errorf("the ImageEvidence CRD did not outlive helm uninstall (crds.keep): %v", err)
		}
	})
}

// helmDryRunApply server-side-applies every object with dryRun=All; the API
// server must accept each.
func helmDryRunApply(ctx context.Context, t *testing.T, c *cluster.Cluster, objs []map[string]any) {
	t.Helper()
	applied := 0
	for _, o := range objs {
		if err := helmDryRunApplyOne(ctx, c, o); err != nil {
			t.Error(err)
			continue
		}
		applied++
	}
	if applied != len(objs) || applied < 10 {
		t.Errorf("%d of %d objects applied", applied, len(objs))
	}
	t.Logf("%d objects accepted", applied)
}

// helmDryRunApplyOne server-side-applies o with dryRun=All.
func helmDryRunApplyOne(ctx context.Context, c *cluster.Cluster, o map[string]any) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	u := &unstructured.Unstructured{Object: o}
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvk, u.GetName(), err)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	if _, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "tokenguard-e2e", Force: true, DryRun: []string{metav1.DryRunAll}}); err != nil {
		return fmt.Errorf("%s %s/%s rejected: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

func helmSameCerts(a, b *corev1.Secret) bool {
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if !bytes.Equal(a.Data[k], b.Data[k]) {
			return false
		}
	}
	return true
}

// helmTrustsSecret: every entry of the webhook configuration trusts the
// CA in the Secret, which issued its certificate.
func helmTrustsSecret(t *testing.T, vwc *admissionregistrationv1.ValidatingWebhookConfiguration, s *corev1.Secret) {
	t.Helper()
	if len(s.Data["ca.crt"]) == 0 || len(s.Data["tls.crt"]) == 0 || len(s.Data["tls.key"]) == 0 {
		t.Fatalf("Secret %s holds %d keys", s.Name, len(s.Data))
	}
	for _, w := range vwc.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, s.Data["ca.crt"]) {
			t.Errorf("%s trusts another CA than the Secret's", w.Name)
		}
	}
}
