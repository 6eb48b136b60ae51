package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestEndToEndAWS: AWS SDK minimums through a real API server (issue #15).
// The images' SPDX SBOMs, in a registry on 127.0.0.1, list the SDK; the
// container's credentials decide which minimum applies. A Pod is judged as
// the mutating webhooks left it (its environment shows EKS Pod Identity or
// IRSA); a Deployment's template has not been mutated yet, so tokenguard
// serve takes IRSA from its service account's eks.amazonaws.com/role-arn
// annotation, read by the informers of registry.pullSecrets, and
// tokenguard audit from the service accounts it lists.
func TestEndToEndAWS(t *testing.T) {
	ctx, c, _, bin, work := ownControlPlane(t)
	warnings := &warningRecorder{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = warnings
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	reg := StartRegistry()
	t.Cleanup(reg.Close)
	push := func(repo, tag, purl string) string {
		t.Helper()
		image, err := reg.PushWithSBOM(repo, tag, purl)
		if err != nil {
			t.Fatal(err)
		}
		return image
	}
	goOld := push("shop/uploader", "v1.47.10", "pkg:golang/github.com/aws/aws-sdk-go@v1.47.10")
	goNew := push("shop/uploader", "v1.47.11", "pkg:golang/github.com/aws/aws-sdk-go@v1.47.11")
	nodeOld := push("shop/reports", "2.524.0", "pkg:npm/aws-sdk@2.524.0")

	// unknown: deny, so that an image whose SBOM was not read is a denial
	// too: an admission below is the SBOM's verdict, not a lookup that
	// failed open; pullSecrets, so that serve reads service accounts.
	startPullSecretsWebhook(ctx, t, c, bin, work, reg.Host)

	const enforce, warn = "e2e-aws", "e2e-aws-warn"
	for ns, mode := range map[string]string{enforce: "enforce", warn: "warn"} {
		if err := LabelNamespace(ctx, client, ns, mode); err != nil {
			t.Fatal(err)
		}
	}
	createPod := func(ns string, p *corev1.Pod) error {
		_, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		return err
	}

	const (
		podIdentityDenial = `container "app" uses github.com/aws/aws-sdk-go v1.47.10 (found in SPDX SBOM), below v1.47.11, the minimum for EKS Pod Identity, ` +
			`so it fails to get credentials or falls back to the node's instance role; upgrade github.com/aws/aws-sdk-go to v1.47.11 or later`
		irsaDenial = `container "app" uses npm:aws-sdk 2.524.0 (found in SPDX SBOM), below 2.525.0, the minimum for IAM roles for service accounts (IRSA), ` +
			`so it cannot use the role and falls back to the node's credentials`
	)

	t.Run("EKS Pod Identity: aws-sdk-go v1.47.10 denied in enforce and warned in warn, v1.47.11 admitted", func(t *testing.T) {
		err := createPod(enforce, podIdentityPod("uploader-old", goOld))
		if !isForbiddenWith(err, `violates tokenguard "token-refresh": `+podIdentityDenial) {
			t.Fatalf("want Forbidden with %q, got %v", podIdentityDenial, err)
		}
		warnings.take()
		if err := createPod(enforce, podIdentityPod("uploader-new", goNew)); err != nil {
			t.Fatalf("aws-sdk-go v1.47.11 with EKS Pod Identity denied: %v", err)
		}
		if got := warnings.take(); len(got) != 0 {
			t.Errorf("aws-sdk-go v1.47.11 warned: %q", got)
		}
		if err := createPod(warn, podIdentityPod("uploader-old", goOld)); err != nil {
			t.Fatalf("warn mode denied: %v", err)
		}
		if got := warnings.take(); len(got) != 1 || !strings.Contains(got[0], `would violate tokenguard "token-refresh": `+podIdentityDenial) {
			t.Errorf("warn mode: warnings %q, want one with %q", got, podIdentityDenial)
		}
	})

	t.Run("no AWS credentials: the same aws-sdk-go v1.47.10 is admitted", func(t *testing.T) {
		p := podIdentityPod("uploader-no-aws", goOld)
		p.Spec.Containers[0].Env, p.Spec.Containers[0].VolumeMounts, p.Spec.Volumes = nil, nil, nil
		warnings.take()
		if err := createPod(enforce, p); err != nil {
			t.Fatalf("pod without AWS credentials denied: %v", err)
		}
		if got := warnings.take(); len(got) != 0 {
			t.Errorf("pod without AWS credentials warned: %q", got)
		}
	})

	// The account the IRSA webhook would act on; this cluster has no such
	// webhook, so its pods' environment never shows IRSA.
	const roleARN = "arn:aws:iam::111122223333:role/reports-s3"
	irsaAccount := func(t *testing.T, ns string) {
		t.Helper()
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "reports",
			Annotations: map[string]string{"eks.amazonaws.com/role-arn": roleARN}}}
		if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("IRSA from the service account: a Deployment of npm aws-sdk 2.524.0 is denied in enforce", func(t *testing.T) {
		irsaAccount(t, enforce)
		d := awsDeployment("reports", nodeOld, "reports")
		// Dry runs until the informer has seen the annotated account;
		// then the create itself must be denied.
		e := &env{}
		e.eventually(t, "a denial naming IRSA", func() error {
			_, err := client.AppsV1().Deployments(enforce).Create(ctx, d, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if !isForbiddenWith(err, irsaDenial) {
				return fmt.Errorf("dry run: want Forbidden with %q, got %v", irsaDenial, err)
			}
			return nil
		})
		if _, err := client.AppsV1().Deployments(enforce).Create(ctx, d, metav1.CreateOptions{}); !isForbiddenWith(err, irsaDenial) {
			t.Fatalf("want Forbidden with %q, got %v", irsaDenial, err)
		}
		// The same template on the default account (no role) is admitted.
		if _, err := client.AppsV1().Deployments(enforce).Create(ctx, awsDeployment("reports-default", nodeOld, ""), metav1.CreateOptions{}); err != nil {
			t.Errorf("the Deployment without an IRSA account denied: %v", err)
		}
		// A Pod is judged as the mutating webhooks left it: on the
		// annotated account but without the IRSA environment (skipped by
		// the IRSA webhook), it takes no role.
		p := podIdentityPod("reports-bare", nodeOld)
		p.Spec.ServiceAccountName = "reports"
		p.Spec.Containers[0].Env, p.Spec.Containers[0].VolumeMounts, p.Spec.Volumes = nil, nil, nil
		if err := createPod(enforce, p); err != nil {
			t.Errorf("a Pod without the IRSA environment denied for its account's annotation: %v", err)
		}
	})

	t.Run("tokenguard audit takes IRSA from the service accounts it lists", func(t *testing.T) {
		// Admitted in a warn namespace; audit, which is not the webhook,
		// must find the account's annotation by itself.
		const ns = "e2e-aws-audit"
		if err := LabelNamespace(ctx, client, ns, "warn"); err != nil {
			t.Fatal(err)
		}
		irsaAccount(t, ns)
		if _, err := client.AppsV1().Deployments(ns).Create(ctx, awsDeployment("reports", nodeOld, "reports"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, bin, "audit", "--kubeconfig", c.Kubeconfig, "-n", ns, "-o", "json",
			"--registry", "--insecure-registry", reg.Host)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 1 {
			t.Fatalf("tokenguard audit: %v, want exit 1 (findings)\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
		}
		var doc struct {
			Results []struct {
				Kind, Name, Verdict string
				Findings            []struct{ Component, Verdict, Credentials, Message string }
			}
		}
		if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out.String())
		}
		var found bool
		for _, r := range doc.Results {
			if r.Kind != "Deployment" || r.Name != "reports" {
				continue
			}
			found = true
			if r.Verdict != "too-old" {
				t.Errorf("Deployment/reports: verdict %s, want too-old", r.Verdict)
			}
			verdicts := map[string]string{}
			for _, f := range r.Findings {
				verdicts[f.Component] = f.Verdict
				if f.Component == "npm:aws-sdk#irsa" && (f.Credentials != "irsa" || !strings.Contains(f.Message, irsaDenial)) {
					t.Errorf("IRSA finding: credentials %q, message %q, want %q", f.Credentials, f.Message, irsaDenial)
				}
			}
			if verdicts["npm:aws-sdk#irsa"] != "too-old" || verdicts["npm:aws-sdk#pod-identity"] != "not-applicable" {
				t.Errorf("Deployment/reports: verdicts %v, want npm:aws-sdk#irsa too-old and #pod-identity not-applicable", verdicts)
			}
		}
		if !found {
			t.Errorf("no result for Deployment/reports:\n%s", out.String())
		}
	})
}

// podIdentityPod is a pod as the EKS Pod Identity webhook leaves it: the
// agent's credentials URI and token file in the environment, and the
// projected token with audience pods.eks.amazonaws.com mounted.
func podIdentityPod(name, image string) *corev1.Pod {
	const dir = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
	day := int64(86400)
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "app", Image: image,
			Env: []corev1.EnvVar{
				{Name: "AWS_STS_REGIONAL_ENDPOINTS", Value: "regional"},
				{Name: "AWS_DEFAULT_REGION", Value: "us-west-2"},
				{Name: "AWS_REGION", Value: "us-west-2"},
				{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
				{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: dir + "/eks-pod-identity-token"},
			},
			VolumeMounts: []corev1.VolumeMount{{Name: "eks-pod-identity-token", MountPath: dir, ReadOnly: true}},
		}},
		Volumes: []corev1.Volume{{Name: "eks-pod-identity-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience: "pods.eks.amazonaws.com", ExpirationSeconds: &day, Path: "eks-pod-identity-token"}}}}}}},
	}}
}

// awsDeployment is a Deployment of one container "app" running as
// serviceAccount ("" is the default one).
func awsDeployment(name, image, serviceAccount string) *appsv1.Deployment {
	d := deployment(name, image)
	spec := &d.Spec.Template.Spec
	spec.ServiceAccountName = serviceAccount
	spec.Containers[0].Name = "app"
	return d
}
