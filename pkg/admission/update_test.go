package admission

import (
	"encoding/json"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	coreDNSOK     = "registry.k8s.io/coredns/coredns:v1.11.1"
	coreDNSTooOld = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1"
)

func deployment(image string) *appsv1.Deployment {
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "api"}}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "api", Image: image}}
	return d
}

func updateReview(t *testing.T, old, new *appsv1.Deployment) []byte {
	t.Helper()
	o, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	n, err := json.Marshal(new)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "u", Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			Resource: metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Namespace: "prod", Name: "api",
			Operation: admissionv1.Update, Object: runtime.RawExtension{Raw: n}, OldObject: runtime.RawExtension{Raw: o}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestUpdateJudgesPolicyInputs: an UPDATE is judged when anything the
// policy reads changed, as the same object would be on CREATE, and left
// alone otherwise — above all `kubectl rollout restart`, the EKS page's
// stop-gap, is never blocked at the workload.
func TestUpdateJudgesPolicyInputs(t *testing.T) {
	year := int64(31536000)
	no := false
	tests := []struct {
		name    string
		image   string
		mutate  func(d *appsv1.Deployment)
		judged  bool
		allowed bool
	}{
		{name: "rollout restart of a too-old workload", image: coreDNSTooOld, allowed: true, mutate: func(d *appsv1.Deployment) {
			d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-12-03T15:00:00Z"}
		}},
		{name: "scale of a too-old workload", image: coreDNSTooOld, allowed: true, mutate: func(d *appsv1.Deployment) {
			n := int32(5)
			d.Spec.Replicas = &n
		}},
		{name: "labels and status", image: coreDNSTooOld, allowed: true, mutate: func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"team": "a"}
			d.Status.ReadyReplicas = 3
		}},
		{name: "image pull secrets", image: coreDNSTooOld, allowed: true, mutate: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}}
		}},
		{name: "image downgraded", image: coreDNSOK, judged: true, mutate: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = coreDNSTooOld
		}},
		{name: "365-day projected token added", image: coreDNSOK, judged: true, mutate: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &year}}}}}}}
			d.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "token", MountPath: "/var/run/secrets/tokens"}}
		}},
		{name: "legacy token secret mounted", image: coreDNSOK, judged: true, mutate: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "legacy", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "api-token-x7k2p"}}}}
			d.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "legacy", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}}
		}},
		{name: "service account changed", image: coreDNSOK, judged: true, allowed: true, mutate: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.ServiceAccountName = "other"
		}},
		{name: "automount turned off", image: coreDNSOK, judged: true, allowed: true, mutate: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.AutomountServiceAccountToken = &no
		}},
		{name: "AWS role added", image: coreDNSOK, judged: true, allowed: true, mutate: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/api"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, UnknownAllow)
			old := deployment(tt.image)
			new := old.DeepCopy()
			tt.mutate(new)
			resp := decodeResponse(t, s.post(ModeEnforce, updateReview(t, old, new), ""))
			if resp.Allowed != tt.allowed {
				t.Errorf("allowed %v, want %v: %+v", resp.Allowed, tt.allowed, resp.Result)
			}
			skipped := testutil.ToFloat64(s.handlers[ModeEnforce].metrics.skipped.WithLabelValues("enforce", "unchanged-policy-inputs"))
			if judged := skipped == 0; judged != tt.judged {
				t.Errorf("judged %v, want %v", judged, tt.judged)
			}
		})
	}
}

// An UPDATE that turns automounting back on for an unknown SDK image is
// judged like a CREATE: with unknown: deny it is denied.
func TestUpdateAutomountBackOn(t *testing.T) {
	s := newTestServer(t, UnknownDeny)
	no := false
	old := deployment("ghcr.io/acme/app:1.0")
	old.Spec.Template.Spec.AutomountServiceAccountToken = &no
	new := old.DeepCopy()
	new.Spec.Template.Spec.AutomountServiceAccountToken = nil
	if resp := decodeResponse(t, s.post(ModeEnforce, updateReview(t, old, new), "")); resp.Allowed {
		t.Errorf("automount back on with an unknown SDK was allowed under unknown: deny")
	}
	if resp := decodeResponse(t, s.post(ModeEnforce, updateReview(t, new, old), "")); !resp.Allowed {
		t.Errorf("automount turned off was denied: %+v", resp.Result)
	}
}
