package workload

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// updateBase is the Deployment every case of TestPolicyInputsChanged
// starts from: two containers, the kube-api-access projected volume, a
// config map, IRSA's region and an unrelated variable.
func updateBase() *appsv1.Deployment {
	kubeAPIAccess := corev1.VolumeMount{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "prod", Generation: 3},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
				Spec: corev1.PodSpec{
					ServiceAccountName: "api",
					ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "regcred"}},
					Containers: []corev1.Container{
						{Name: "api", Image: "ghcr.io/acme/api:1.4", VolumeMounts: []corev1.VolumeMount{kubeAPIAccess, {Name: "config", MountPath: "/etc/api"}},
							Env: []corev1.EnvVar{{Name: "AWS_REGION", Value: "us-east-1"}, {Name: "LOG_LEVEL", Value: "info"}}},
						{Name: "proxy", Image: "envoyproxy/envoy:v1.30.1", VolumeMounts: []corev1.VolumeMount{kubeAPIAccess}},
					},
					Volumes: []corev1.Volume{
						{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
							{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr(int64(3607))}},
						}}}},
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}}}},
					},
				},
			},
		},
		Status: appsv1.DeploymentStatus{Replicas: 2, ReadyReplicas: 2},
	}
}

// TestPolicyInputsChanged reads each UPDATE's old and new Deployment both
// ways (the fast decoder, as admission does, and the typed converter) and
// asks whether the workload must be judged again.
func TestPolicyInputsChanged(t *testing.T) {
	tests := []struct {
		name string
		// old changes updateBase into the old object (optional); update
		// changes a copy of the old object into the new one.
		old, update func(d *appsv1.Deployment)
		want        bool
	}{
		{name: "no change", update: func(d *appsv1.Deployment) {}, want: false},
		{name: "scale", want: false, update: func(d *appsv1.Deployment) {
			d.Spec.Replicas = ptr(int32(5))
			d.Status.Replicas = 5
		}},
		{name: "kubectl rollout restart: a template annotation", want: false, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2025-01-02T03:04:05Z"}
		}},
		{name: "labels, generation and status", want: false, update: func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"team": "a"}
			d.Spec.Template.Labels["version"] = "2"
			d.Generation++
			d.Status.ObservedGeneration = d.Generation
		}},
		{name: "resources and a variable not named AWS_*", want: false, update: func(d *appsv1.Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}
			c.Env[1].Value = "debug"
			c.Env = append(c.Env, corev1.EnvVar{Name: "FEATURES", Value: "x"})
		}},
		{name: "a volume the policy does not read", want: false, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}},
		{name: "imagePullSecrets", want: false, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "ecr"}, {Name: "regcred"}}
		}},
		{name: "image", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[1].Image = "envoyproxy/envoy:v1.31.0"
		}},
		{name: "container renamed", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[1].Name = "envoy"
		}},
		{name: "container becomes an init container", want: true, update: func(d *appsv1.Deployment) {
			s := &d.Spec.Template.Spec
			s.InitContainers = s.Containers[1:]
			s.Containers = s.Containers[:1]
		}},
		{name: "containers reordered (order counts)", want: true, update: func(d *appsv1.Deployment) {
			cs := d.Spec.Template.Spec.Containers
			cs[0], cs[1] = cs[1], cs[0]
		}},
		{name: "a 365-day projected token volume added", want: true, update: func(d *appsv1.Deployment) {
			s := &d.Spec.Template.Spec
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "vault-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault", ExpirationSeconds: ptr(int64(365 * 24 * 3600))}},
			}}}})
		}},
		{name: "token expirationSeconds", want: true, update: func(d *appsv1.Deployment) {
			*d.Spec.Template.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds = 365 * 24 * 3600
		}},
		{name: "token expirationSeconds removed", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds = nil
		}},
		{name: "token audience", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.Audience = "sts.amazonaws.com"
		}},
		{name: "token path", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.Path = "sa-token"
		}},
		{name: "a legacy token secret volume and its mount added", want: true, update: func(d *appsv1.Deployment) {
			s := &d.Spec.Template.Spec
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "legacy-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "api-token-x7k2p"}}})
			s.Containers[0].VolumeMounts = append(s.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "legacy-token", MountPath: "/var/run/secrets/legacy"})
		}},
		{name: "secret name", want: true,
			old: func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Volumes[1].VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "api-config"}}
			},
			update: func(d *appsv1.Deployment) { d.Spec.Template.Spec.Volumes[1].Secret.SecretName = "api-token" }},
		{name: "mount path", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[1].VolumeMounts[0].MountPath = "/token"
		}},
		{name: "mount removed", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[1].VolumeMounts = nil
		}},
		{name: "automount false to nil (turned back on)", want: true,
			old:    func(d *appsv1.Deployment) { d.Spec.Template.Spec.AutomountServiceAccountToken = ptr(false) },
			update: func(d *appsv1.Deployment) { d.Spec.Template.Spec.AutomountServiceAccountToken = nil }},
		{name: "automount nil to true", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.AutomountServiceAccountToken = ptr(true)
		}},
		{name: "automount unchanged false", want: false,
			old:    func(d *appsv1.Deployment) { d.Spec.Template.Spec.AutomountServiceAccountToken = ptr(false) },
			update: func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(0)) }},
		{name: "serviceAccountName", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.ServiceAccountName = "api-irsa"
		}},
		{name: "AWS_ROLE_ARN added", want: true, update: func(d *appsv1.Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/api"})
		}},
		{name: "AWS_REGION's value", want: true, update: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Env[0].Value = "eu-west-1"
		}},
		{name: "EKS Pod Identity's variables from a source", want: true, update: func(d *appsv1.Deployment) {
			c := &d.Spec.Template.Spec.Containers[1]
			c.Env = []corev1.EnvVar{
				{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
				{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Key: "file"}}},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := updateBase()
			if tt.old != nil {
				tt.old(old)
			}
			updated := old.DeepCopy()
			tt.update(updated)
			for _, way := range []struct {
				name string
				read func(*appsv1.Deployment) policy.PodSpec
			}{
				{"FromJSON", func(d *appsv1.Deployment) policy.PodSpec { return fastRead(t, d) }},
				{"FromObject", func(d *appsv1.Deployment) policy.PodSpec {
					w, _, _ := FromObject(d)
					return w.Pod
				}},
			} {
				o, u := way.read(old), way.read(updated)
				if got := PolicyInputsChanged(&o, &u); got != tt.want {
					t.Errorf("%s: PolicyInputsChanged = %v, want %v\n old %s\n new %s", way.name, got, tt.want, dumpPod(o), dumpPod(u))
				}
				if got := PolicyInputsChanged(&u, &o); got != tt.want {
					t.Errorf("%s: not symmetric", way.name)
				}
			}
		})
	}
}

func fastRead(t *testing.T, d *appsv1.Deployment) policy.PodSpec {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	w, ok, err := FromJSON("apps", "Deployment", raw)
	if !ok || err != nil {
		t.Fatalf("FromJSON: ok %v err %v", ok, err)
	}
	return w.Pod
}

func TestPolicyInputsChangedNil(t *testing.T) {
	var empty policy.PodSpec
	for _, tt := range []struct {
		old, updated *policy.PodSpec
		want         bool
	}{
		{nil, nil, false},
		{&empty, nil, true},
		{nil, &empty, true},
		{&empty, &policy.PodSpec{}, false},
		// nil and empty lists are the same.
		{&policy.PodSpec{Containers: []policy.Container{{Name: "a", Env: []policy.EnvVar{}}}},
			&policy.PodSpec{Containers: []policy.Container{{Name: "a"}}}, false},
	} {
		if got := PolicyInputsChanged(tt.old, tt.updated); got != tt.want {
			t.Errorf("PolicyInputsChanged(%v, %v) = %v, want %v", tt.old, tt.updated, got, tt.want)
		}
	}
}

func TestPolicyInputsChangedDoesNotAllocate(t *testing.T) {
	old, updated := PodSpecFromCore(benchPodSpec()), PodSpecFromCore(benchPodSpec())
	if n := testing.AllocsPerRun(100, func() {
		if PolicyInputsChanged(&old, &updated) {
			t.Fatal("changed")
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func BenchmarkPolicyInputsChanged(b *testing.B) {
	old, updated := PodSpecFromCore(benchPodSpec()), PodSpecFromCore(benchPodSpec())
	b.ReportAllocs()
	for b.Loop() {
		if PolicyInputsChanged(&old, &updated) {
			b.Fatal("changed")
		}
	}
}
