package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// TestEndToEndPullSecrets: tokenguard serve with registry.pullSecrets and
// --kubeconfig reads a kubernetes.io/dockerconfigjson secret and a service
// account from a real API server (list and watch, through pkg/kube) and
// uses the credentials against a registry on 127.0.0.1 that refuses
// anonymous requests: without them the image's SBOM is unknown, with them
// its old client-go denies the pod in enforce.
func TestEndToEndPullSecrets(t *testing.T) {
	ctx, c, client, bin, work := ownControlPlane(t)

	// One registry store behind two servers: an open one to push the
	// images, and the private one the pods name, which wants alice:s3cret.
	const user, pass = "alice", "s3cret"
	store := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	pusher := &Registry{server: httptest.NewServer(store)}
	pusher.Host = strings.TrimPrefix(pusher.server.URL, "http://")
	t.Cleanup(pusher.Close)
	var authorized, refused atomic.Int64
	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="e2e"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		store.ServeHTTP(w, r)
	}))
	t.Cleanup(private.Close)
	host := strings.TrimPrefix(private.URL, "http://")
	push := func(t *testing.T, repo string) string {
		t.Helper()
		if _, err := pusher.PushWithSBOM(repo, "1.0", "pkg:golang/k8s.io/client-go@v0.14.2"); err != nil {
			t.Fatal(err)
		}
		return host + "/" + repo + ":1.0"
	}

	webhook := startPullSecretsWebhook(ctx, t, c, bin, work, host)
	if out := webhook.Output(); !strings.Contains(out, "reading image pull secrets for registry lookups") {
		t.Fatalf("the pull secret caches did not sync at start:\n%s", tail(out, 30))
	}

	const ns = "e2e-pullsecrets"
	if err := LabelNamespace(ctx, client, ns, "enforce"); err != nil {
		t.Fatal(err)
	}
	const sbomDenial = `container "app" uses k8s.io/client-go v0.14.2 (found in SPDX SBOM), minimum v0.15.7`
	newPod := func(name, image, serviceAccount string, secrets ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
			ServiceAccountName: serviceAccount,
			Containers:         []corev1.Container{{Name: "app", Image: image}},
		}}
		for _, s := range secrets {
			p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		return p
	}
	create := func(p *corev1.Pod) error {
		_, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		return err
	}
	// deniedUnknown: without credentials the registry answers 401, the
	// evidence is unknown, and unknown: deny denies, without the SBOM.
	deniedUnknown := func(t *testing.T, p *corev1.Pod) {
		t.Helper()
		before := refused.Load()
		err := create(p)
		if !apierrors.IsForbidden(err) || strings.Contains(err.Error(), "SPDX SBOM") {
			t.Fatalf("pod %s without usable credentials: want Forbidden for unknown evidence, got %v", p.Name, err)
		}
		if refused.Load() == before {
			t.Errorf("pod %s: the private registry refused no request", p.Name)
		}
	}
	// deniedBySBOM: with the credentials the SBOM is read; the pod is
	// retried while the informers catch up with what was just created.
	deniedBySBOM := func(t *testing.T, p *corev1.Pod) {
		t.Helper()
		before := authorized.Load()
		e := &env{}
		e.eventually(t, "a denial naming the SBOM read with the pull secret", func() error {
			if err := create(p); !isForbiddenWith(err, sbomDenial) {
				return fmt.Errorf("pod %s: want Forbidden with %q, got %v", p.Name, sbomDenial, err)
			}
			return nil
		})
		if authorized.Load() == before {
			t.Errorf("pod %s: no request with the pull secret's credentials reached the registry", p.Name)
		}
	}

	t.Run("the pod's own dockerconfigjson pull secret", func(t *testing.T) {
		image := push(t, "acme/private-a")
		deniedUnknown(t, newPod("without-secret", image, ""))
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "regcred"},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(fmt.Sprintf(
				`{"auths":{%q:{"username":%q,"password":%q,"auth":%q}}}`, host, user, pass, auth))},
		}
		if _, err := client.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		deniedBySBOM(t, newPod("with-secret", image, "", "regcred"))
	})

	t.Run("tokenguard audit --pull-secrets", func(t *testing.T) {
		// A running pod of the private image, in a warn namespace (so it
		// is admitted), with its pull secret: audit finds its old
		// client-go only when it reads the pull secret from the cluster.
		const auditNS = "e2e-pullsecrets-audit"
		if err := LabelNamespace(ctx, client, auditNS, "warn"); err != nil {
			t.Fatal(err)
		}
		image := push(t, "acme/private-audit")
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: auditNS, Name: "regcred"},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(fmt.Sprintf(
				`{"auths":{%q:{"username":%q,"password":%q,"auth":%q}}}`, host, user, pass, auth))},
		}
		if _, err := client.CoreV1().Secrets(auditNS).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.CoreV1().Pods(auditNS).Create(ctx, newPod("runs", image, "", "regcred"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		audit := func(t *testing.T, extra ...string) (verdict string, messages []string, stderr string) {
			t.Helper()
			args := append([]string{"audit", "--kubeconfig", c.Kubeconfig, "-n", auditNS, "-o", "json",
				"--registry", "--insecure-registry", host}, extra...)
			cmd := exec.CommandContext(ctx, bin, args...)
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			_ = cmd.Run() // exit 1: findings
			var doc struct {
				Results []struct {
					Kind, Name, Verdict string
					Findings            []struct{ Message string }
				}
			}
			if err := json.Unmarshal([]byte(out.String()), &doc); err != nil || len(doc.Results) != 1 {
				t.Fatalf("audit %v: %v\nstdout:\n%s\nstderr:\n%s", extra, err, out.String(), errb.String())
			}
			r := doc.Results[0]
			if r.Kind != "Pod" || r.Name != "runs" {
				t.Fatalf("audit found %s/%s, want Pod/runs", r.Kind, r.Name)
			}
			var msgs []string
			for _, f := range r.Findings {
				msgs = append(msgs, f.Message)
			}
			return r.Verdict, msgs, errb.String()
		}
		verdict, messages, _ := audit(t)
		if verdict != "unknown" || strings.Contains(strings.Join(messages, "\n"), "SPDX SBOM") {
			t.Errorf("audit without --pull-secrets: %s %q, want unknown (the registry wants credentials)", verdict, messages)
		}
		before := authorized.Load()
		verdict, messages, stderr := audit(t, "--pull-secrets")
		if verdict != "too-old" || !strings.Contains(strings.Join(messages, "\n"), "k8s.io/client-go v0.14.2 (found in SPDX SBOM)") {
			t.Errorf("audit --pull-secrets: %s %q, want too-old from the SBOM\nstderr:\n%s", verdict, messages, stderr)
		}
		if authorized.Load() == before {
			t.Error("audit --pull-secrets: no request with the pull secret's credentials reached the registry")
		}
	})

	t.Run("the service account's pull secret", func(t *testing.T) {
		// A pod with pull secrets of its own keeps them (the API server's
		// ServiceAccount admission copies the account's only into pods
		// without any), so this one reaches tokenguard naming a missing
		// secret, and regcred comes from the service account informer.
		image := push(t, "acme/private-b")
		deniedUnknown(t, newPod("default-account", image, "", "missing"))
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "builder"},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}
		if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		deniedBySBOM(t, newPod("builder-account", image, "builder", "missing"))
	})
}

// startPullSecretsWebhook starts tokenguard serve with registry lookups to
// host, registry.pullSecrets on and unknown: deny (so that an admission is
// the evidence's verdict, not a lookup that failed open), without the
// credentials of the machine's Docker config; it stops with the test and
// prints its output when the test failed.
func startPullSecretsWebhook(ctx context.Context, t *testing.T, c *cluster.Cluster, bin, work, host string) *Webhook {
	t.Helper()
	config := filepath.Join(work, "tokenguard.yaml")
	cfgText := fmt.Sprintf("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\nunknown: deny\n"+
		"registry:\n  enabled: true\n  pullSecrets: true\n  registries: [%q]\n  insecureRegistries: [%q]\n", host, host)
	if err := os.WriteFile(config, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	webhook, err := StartWebhook(ctx, c, bin, work, "--config", config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		webhook.Stop()
		if t.Failed() {
			t.Logf("tokenguard output:\n%s", tail(webhook.Output(), 60))
		}
	})
	return webhook
}
