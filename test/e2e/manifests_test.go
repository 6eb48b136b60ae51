package e2e

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/tokenguard/tokenguard/deploy"
)

// dryRunOverlays server-side-applies, with dryRun=All, every object of every
// overlay of deploy/: the API server must accept each (cert-manager's kinds
// are skipped: its CRDs are not installed here).
func (e *env) dryRunOverlays(t *testing.T) {
	ctx := context.Background()
	dyn, err := dynamic.NewForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	e.namespace(t, "tokenguard-system", "off")
	for _, overlay := range deploy.Overlays {
		objs, err := deploy.Build(t.TempDir(), overlay)
		if err != nil {
			t.Fatal(err)
		}
		applied := 0
		for _, o := range objs {
			u := &unstructured.Unstructured{Object: o}
			gvk := u.GroupVersionKind()
			if strings.HasSuffix(gvk.Group, "cert-manager.io") {
				continue
			}
			if gvk.Kind == "ValidatingWebhookConfiguration" {
				// The live configuration of this test has the same name
				// and points at a URL; judge the shipped one on its own.
				u.SetName(u.GetName() + "-dry-run")
			}
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Errorf("%s: %s %s: %v", overlay, gvk, u.GetName(), err)
				continue
			}
			var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
			}
			if _, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "tokenguard-e2e", Force: true, DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Errorf("%s: %s %s/%s rejected: %v", overlay, u.GetKind(), u.GetNamespace(), u.GetName(), err)
				continue
			}
			applied++
		}
		if applied < 9 {
			t.Errorf("%s: only %d objects applied", overlay, applied)
		}
	}
}
