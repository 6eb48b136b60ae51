package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/deploy/crds"
	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// TestEndToEndSharedEvidence: two `tokenguard serve` processes, one after
// the other, behind a real API server with the ImageEvidence CRD. The
// first reads an image's SBOM from the registry when a Pod is created and
// writes the image's ImageEvidence; the second, started fresh (an empty
// cache, as after a restart or on another replica), judges a Pod of the
// same image by digest from that object alone: the same too-old warning,
// and not one request to the registry, counted by the registry itself.
func TestEndToEndSharedEvidence(t *testing.T) {
	// The controller manager makes the namespace's default service account.
	c := cluster.StartForTest(t, cluster.Options{ControllerManager: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := c.InstallCRD(ctx, crds.ImageEvidenceYAML); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin, err := BuildTokenguard(work)
	if err != nil {
		t.Fatal(err)
	}
	reg, image, config := sbomRegistry(t, work)
	warnings := &warningRecorder{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = warnings
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const ns = "shared"
	if err := LabelNamespace(ctx, client, ns, "warn"); err != nil {
		t.Fatal(err)
	}
	start := func(dir string) *Webhook {
		t.Helper()
		w, err := StartWebhook(ctx, c, bin, filepath.Join(work, dir), "--config", config)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			w.Stop()
			if t.Failed() {
				t.Logf("%s output:\n%s", dir, tail(w.Output(), 40))
			}
		})
		if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			return strings.Contains(w.Output(), "sharing registry evidence through ImageEvidence objects"), nil
		}); err != nil {
			t.Fatalf("%s does not read ImageEvidence:\n%s", dir, tail(w.Output(), 30))
		}
		return w
	}
	create := func(name, image string) []string {
		t.Helper()
		warnings.take()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}
		if _, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return warnings.take()
	}

	// The first replica looks the image up and shares what it found.
	first := start("first")
	got := create("api-1", image)
	if !containsAll(got, "v0.14.2") {
		t.Fatalf("first replica's warnings %q: want client-go v0.14.2 from the SBOM", got)
	}
	var digest string
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := dyn.Resource(v1alpha1.ImageEvidenceResource).List(ctx, metav1.ListOptions{})
		if err != nil || len(l.Items) != 1 {
			return false, nil
		}
		observed, _, _ := unstructured.NestedString(l.Items[0].Object, "status", "observedTime")
		digest, _, _ = unstructured.NestedString(l.Items[0].Object, "spec", "digest")
		return observed != "", nil
	}); err != nil {
		t.Fatalf("no ImageEvidence written:\n%s", tail(first.Output(), 30))
	}
	first.Stop()

	// The second replica, its cache empty, judges the digest from the
	// ImageEvidence alone.
	second := start("second")
	before := reg.Requests()
	got = create("api-2", reg.Host+"/acme/api@"+digest)
	if !containsAll(got, "v0.14.2") {
		t.Errorf("second replica's warnings %q: want client-go v0.14.2 from the shared evidence", got)
	}
	if n := reg.Requests() - before; n != 0 {
		t.Errorf("the second replica sent %d requests to the registry, want none", n)
	}
	if m := second.Metrics(); !strings.Contains(m, `tokenguard_imageevidence_lookups_total{result="hit"} 1`) {
		t.Errorf("second replica's metrics: %s", grepLines(m, "tokenguard_imageevidence"))
	}
}
