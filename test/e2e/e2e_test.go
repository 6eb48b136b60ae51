package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

const (
	cniOld = "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.5-eksbuild.1"
	cniNew = "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1"
	dnsOld = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1"
	dnsNew = "registry.k8s.io/coredns/coredns:v1.11.1"
	appImg = "ghcr.io/acme/orders:1.4.2"

	denial  = `violates tokenguard "token-refresh": container "aws-node" uses amazon-vpc-cni v1.7.5-eksbuild.1 (found in image tag), minimum 1.8.0`
	warning = `would violate tokenguard "token-refresh": container "aws-node" uses amazon-vpc-cni v1.7.5-eksbuild.1 (found in image tag), minimum 1.8.0`
)

// env is the running control plane and webhook shared by the scenarios.
type env struct {
	registry *Registry
	cluster  *cluster.Cluster
	client   *kubernetes.Clientset
	warnings *warningRecorder
	webhook  *Webhook
}

// warningRecorder collects the admission warnings client-go receives.
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeader(code int, agent, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.msgs
	w.msgs = nil
	return m
}

func setup(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: starts etcd, kube-apiserver, kube-controller-manager and tokenguard (skipped with -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	t.Cleanup(cancel)
	work := t.TempDir()
	binDir, err := cluster.BinDir(testLog{t})
	if err != nil {
		t.Fatalf("control-plane binaries: %v", err)
	}
	c, err := cluster.Start(ctx, cluster.Options{BinDir: binDir, WorkDir: work, Log: testLog{t}, ControllerManager: true})
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })

	e := &env{cluster: c, warnings: &warningRecorder{}}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = e.warnings
	if e.client, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	bin, err := BuildTokenguard(work)
	if err != nil {
		t.Fatal(err)
	}
	// unknown: deny makes an application image without evidence a denial
	// in enforce, so that "no token, not applicable" is a real difference.
	// Registry evidence is on, limited to the test registry on 127.0.0.1.
	e.registry = StartRegistry()
	t.Cleanup(e.registry.Close)
	config := filepath.Join(work, "tokenguard.yaml")
	cfgText := fmt.Sprintf("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\nunknown: deny\n"+
		"registry:\n  enabled: true\n  registries: [%q]\n  insecureRegistries: [%q]\n", e.registry.Host, e.registry.Host)
	if err := os.WriteFile(config, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	if e.webhook, err = StartWebhook(ctx, c, bin, work, "--config", config); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.webhook.Stop()
		if t.Failed() {
			t.Logf("tokenguard output:\n%s", tail(e.webhook.Output(), 60))
		}
	})
	return e
}

// namespace creates or relabels a namespace (no label when mode is "").
func (e *env) namespace(t *testing.T, name, mode string) string {
	t.Helper()
	if err := LabelNamespace(context.Background(), e.client, name, mode); err != nil {
		t.Fatal(err)
	}
	return name
}

func (e *env) eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		last = f()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, last)
	}
}

func pod(name string, images ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}
	names := []string{"aws-node", "coredns", "app"}
	for i, im := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: names[i], Image: im})
	}
	return p
}

func deployment(name, image string) *appsv1.Deployment {
	replicas := int32(2)
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "aws-node", Image: image}}},
			},
		},
	}
}

func isForbiddenWith(err error, text string) bool {
	return err != nil && apierrors.IsForbidden(err) && strings.Contains(err.Error(), text)
}

func containsAll(have []string, want string) bool {
	for _, h := range have {
		if strings.Contains(h, want) {
			return true
		}
	}
	return false
}

func grepLines(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// testLog writes progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestEndToEnd(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	create := func(ns string, p *corev1.Pod) error {
		_, err := e.client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		return err
	}

	t.Run("1 enforce denies a too-old add-on, admits a current one", func(t *testing.T) {
		ns := e.namespace(t, "e2e-enforce", "enforce")
		err := create(ns, pod("old-cni", cniOld))
		if !isForbiddenWith(err, denial) {
			t.Fatalf("want Forbidden with %q, got %v", denial, err)
		}
		if err := create(ns, pod("new-cni", cniNew)); err != nil {
			t.Fatalf("current image denied: %v", err)
		}
	})

	t.Run("2 warn and the unlabelled default warn through client-go", func(t *testing.T) {
		for _, mode := range []string{"warn", ""} {
			ns := e.namespace(t, "e2e-warn"+mode+"-ns", mode)
			e.warnings.take()
			if err := create(ns, pod("old-cni", cniOld)); err != nil {
				t.Fatalf("mode %q: %v", mode, err)
			}
			if got := e.warnings.take(); !containsAll(got, warning) {
				t.Errorf("mode %q: warnings %q lack %q", mode, got, warning)
			}
		}
	})

	t.Run("3 audit admits silently and counts", func(t *testing.T) {
		ns := e.namespace(t, "e2e-audit", "audit")
		e.warnings.take()
		if err := create(ns, pod("old-cni", cniOld)); err != nil {
			t.Fatal(err)
		}
		if got := e.warnings.take(); len(got) != 0 {
			t.Errorf("audit warned: %q", got)
		}
		want := `tokenguard_admission_decisions_total{decision="allowed",kind="Pod",mode="audit",verdict="too-old"}`
		if m := e.webhook.Metrics(); !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	})

	t.Run("4 deployments: denied in enforce, warned in warn and rolled out by the controller", func(t *testing.T) {
		enforce := e.namespace(t, "e2e-enforce", "enforce")
		_, err := e.client.AppsV1().Deployments(enforce).Create(ctx, deployment("old", cniOld), metav1.CreateOptions{})
		if !isForbiddenWith(err, denial) {
			t.Fatalf("want Forbidden, got %v", err)
		}
		warnNS := e.namespace(t, "e2e-warn-deploy", "warn")
		e.warnings.take()
		if _, err := e.client.AppsV1().Deployments(warnNS).Create(ctx, deployment("old", cniOld), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := e.warnings.take(); !containsAll(got, warning) {
			t.Errorf("no warning on the deployment: %q", got)
		}
		e.eventually(t, "the controller manager to create the pods", func() error {
			pods, err := e.client.CoreV1().Pods(warnNS).List(ctx, metav1.ListOptions{LabelSelector: "app=old"})
			if err != nil {
				return err
			}
			if len(pods.Items) != 2 {
				return fmt.Errorf("%d pods", len(pods.Items))
			}
			return nil
		})
		// The controller's pod creations went through the webhook too.
		if out := e.webhook.Output(); !strings.Contains(out, `"kind":"ReplicaSet","namespace":"e2e-warn-deploy"`) ||
			!strings.Contains(out, `"kind":"Pod","namespace":"e2e-warn-deploy"`) {
			t.Errorf("the controller's ReplicaSet and Pods were not judged:\n%s", tail(out, 20))
		}
	})

	t.Run("12 labelling a namespace enforce previews what would be denied", func(t *testing.T) {
		e.warnings.take()
		e.namespace(t, "e2e-warn-deploy", "enforce") // holds Deployment/old and its pods (scenario 4)
		got := strings.Join(e.warnings.take(), "\n")
		for _, want := range []string{
			`namespace "e2e-warn-deploy" is now enforced: 1 running workload would be denied`,
			`would be denied: Deployment/old: container "aws-node" uses amazon-vpc-cni v1.7.5-eksbuild.1`,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("warnings lack %q:\n%s", want, got)
			}
		}
		e.namespace(t, "e2e-warn-deploy", "warn")
	})

	t.Run("5 updates: same images and scale allowed, an old image denied", func(t *testing.T) {
		ns := e.namespace(t, "e2e-update", "")
		if _, err := e.client.AppsV1().Deployments(ns).Create(ctx, deployment("legacy", cniOld), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.AppsV1().Deployments(ns).Create(ctx, deployment("current", cniNew), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.namespace(t, ns, "enforce")
		patch := []byte(`{"metadata":{"labels":{"team":"network"}}}`)
		if _, err := e.client.AppsV1().Deployments(ns).Patch(ctx, "legacy", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Errorf("label change on an old deployment denied: %v", err)
		}
		scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: ns}, Spec: autoscalingv1.ScaleSpec{Replicas: 1}}
		if _, err := e.client.AppsV1().Deployments(ns).UpdateScale(ctx, "legacy", scale, metav1.UpdateOptions{}); err != nil {
			t.Errorf("scale denied: %v", err)
		}
		img := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"aws-node","image":"` + cniOld + `"}]}}}}`)
		_, err := e.client.AppsV1().Deployments(ns).Patch(ctx, "current", types.StrategicMergePatchType, img, metav1.PatchOptions{})
		if !isForbiddenWith(err, denial) {
			t.Errorf("update to an old image: want Forbidden, got %v", err)
		}
	})

	t.Run("6 no token: not applicable; a 90-day-plus projected token is reported", func(t *testing.T) {
		ns := e.namespace(t, "e2e-enforce", "enforce")
		no := false
		p := pod("no-token", appImg)
		p.Spec.AutomountServiceAccountToken = &no
		if err := create(ns, p); err != nil {
			t.Errorf("pod without a token denied: %v", err)
		}
		// The same image with a token: its client SDK cannot be checked,
		// and the configuration says unknown: deny.
		if err := create(ns, pod("with-token", appImg)); !isForbiddenWith(err, `cannot check container "aws-node": image "`+appImg+`"`) {
			t.Errorf("pod with a token and unknown evidence: want Forbidden, got %v", err)
		}
		warnNS := e.namespace(t, "e2e-warn-token", "warn")
		year := int64(365 * 24 * 3600)
		long := pod("long-token", dnsNew)
		long.Spec.AutomountServiceAccountToken = &no
		long.Spec.Volumes = []corev1.Volume{{Name: "vault", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &year}}}}}}}
		long.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "vault", MountPath: "/var/run/secrets/vault"}}
		e.warnings.take()
		if err := create(warnNS, long); err != nil {
			t.Fatal(err)
		}
		if got := e.warnings.take(); !containsAll(got, `volume "vault" requests a service-account token valid for 365 days`) {
			t.Errorf("long token not reported: %q", got)
		}
		long.Name = "long-token-enforced"
		if err := create(ns, long); !isForbiddenWith(err, "expirationSeconds 31536000") {
			t.Errorf("long token in enforce: want Forbidden, got %v", err)
		}
	})

	t.Run("9 the webhook's own namespace is never judged", func(t *testing.T) {
		ns := e.namespace(t, "tokenguard-system", "enforce")
		if err := create(ns, pod("old-cni", cniOld)); err != nil {
			t.Errorf("tokenguard-system judged: %v", err)
		}
	})

	t.Run("10 every deploy/ overlay passes a server-side dry-run", e.dryRunOverlays)

	t.Run("11 an SBOM in the registry with an old client-go denies in enforce; the second look is cached", func(t *testing.T) {
		image, err := e.registry.PushWithSBOM("acme/orders", "1.4.2", "pkg:golang/k8s.io/client-go@v0.14.2", "pkg:golang/golang.org/x/net@v0.1.0")
		if err != nil {
			t.Fatal(err)
		}
		current, err := e.registry.PushWithSBOM("acme/orders", "2.0.0", "pkg:golang/k8s.io/client-go@v0.29.3")
		if err != nil {
			t.Fatal(err)
		}
		ns := e.namespace(t, "e2e-enforce", "enforce")
		want := `container "aws-node" uses k8s.io/client-go v0.14.2 (found in SPDX SBOM), minimum v0.15.7`
		for i := 0; i < 2; i++ {
			d := deployment(fmt.Sprintf("sbom-%d", i), image)
			_, err := e.client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
			if !isForbiddenWith(err, want) {
				t.Fatalf("attempt %d: want Forbidden with %q, got %v", i, want, err)
			}
		}
		if _, err := e.client.AppsV1().Deployments(ns).Create(ctx, deployment("sbom-current", current), metav1.CreateOptions{}); err != nil {
			t.Errorf("current client-go denied: %v", err)
		}
		m := e.webhook.Metrics()
		if !strings.Contains(m, `tokenguard_registry_cache_total{result="hit"}`) || !strings.Contains(m, `tokenguard_admission_evidence_total{source="sbom:spdx-referrer"}`) {
			t.Errorf("metrics show no cache hit or no SBOM evidence:\n%s", grepLines(m, "tokenguard_registry_cache_total", "tokenguard_admission_evidence_total"))
		}
	})

	t.Run("13 layer scanning: an image without an SBOM is judged by its own files", func(t *testing.T) {
		ns := e.namespace(t, "e2e-layers", "enforce")
		old, err := e.registry.PushFiles("shop/orders", "2.4.1", map[string]string{"etc/os-release": "ID=debian\n"}, map[string]string{
			"app/package.json": `{"name":"orders","dependencies":{"@kubernetes/client-node":"^0.10.0"}}`,
			"app/node_modules/@kubernetes/client-node/package.json": `{"name":"@kubernetes/client-node","version":"0.10.2"}`,
		})
		if err != nil {
			t.Fatal(err)
		}
		operator, err := BuildOperator(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		current, err := e.registry.PushFiles("platform/operator", "1.0", map[string]string{"manager": string(operator)})
		if err != nil {
			t.Fatal(err)
		}
		// The first review starts the scan; unknown: deny refuses the pod
		// until its result is in, then the files decide.
		const found = "@kubernetes/client-node 0.10.2 (found in /app/node_modules/@kubernetes/client-node/package.json), minimum 0.10.3"
		e.eventually(t, "the scan of shop/orders to deny by its files", func() error {
			err := create(ns, pod("orders", old))
			if !isForbiddenWith(err, found) {
				return fmt.Errorf("got %v", err)
			}
			return nil
		})
		e.eventually(t, "the scan of platform/operator to admit its client-go", func() error {
			return create(ns, pod("operator", current))
		})
		if m := e.webhook.Metrics(); !strings.Contains(m, `tokenguard_layer_scan_duration_seconds_count{outcome="complete"}`) {
			t.Errorf("/metrics lacks the completed scans")
		}
	})

	t.Run("8 certificate rotation without restart", func(t *testing.T) {
		pid := e.webhook.PID()
		// New CA and serving pair swapped in place, caBundle updated; waits
		// for a denial through the new chain.
		if err := e.webhook.RotateCertificate(ctx); err != nil {
			t.Fatal(err)
		}
		if e.webhook.PID() != pid || pid == 0 {
			t.Errorf("the webhook restarted: pid %d, now %d", pid, e.webhook.PID())
		}
		if err := create(e.namespace(t, "e2e-enforce", "enforce"), pod("after-rotation", cniOld)); !isForbiddenWith(err, denial) {
			t.Errorf("after rotation: want Forbidden, got %v", err)
		}
	})

	t.Run("7 webhook down: enforce fails closed, warn and kube-system fail open", func(t *testing.T) {
		enforce := e.namespace(t, "e2e-enforce", "enforce")
		warnNS := e.namespace(t, "e2e-warn-down", "warn")
		kubeSystem := e.namespace(t, "kube-system", "enforce")
		e.webhook.Stop()
		err := create(enforce, pod("while-down", cniNew))
		if err == nil || !strings.Contains(err.Error(), "failed calling webhook") {
			t.Errorf("enforce with the webhook down: want a failed webhook call, got %v", err)
		}
		for _, ns := range []string{warnNS, kubeSystem} {
			if err := create(ns, pod("while-down", cniOld)); err != nil {
				t.Errorf("%s with the webhook down: %v", ns, err)
			}
		}
		if err := e.webhook.Start(); err != nil {
			t.Fatal(err)
		}
		e.eventually(t, "the restarted webhook to deny again", func() error {
			err := create(enforce, pod("after-restart", cniOld))
			if !isForbiddenWith(err, denial) {
				return fmt.Errorf("got %v", err)
			}
			return nil
		})
		e.namespace(t, "kube-system", "")
	})
}
