package workload

import (
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

func TestPodSpecFromCore(t *testing.T) {
	tests := []struct {
		name string
		in   *corev1.PodSpec
		want policy.PodSpec
	}{
		{name: "nil", in: nil, want: policy.PodSpec{}},
		{name: "empty", in: &corev1.PodSpec{}, want: policy.PodSpec{}},
		{
			name: "containers in spec order: init, regular, ephemeral",
			in: &corev1.PodSpec{
				ServiceAccountName:           "sa",
				AutomountServiceAccountToken: ptr(true),
				InitContainers:               []corev1.Container{{Name: "i", Image: "i:1", VolumeMounts: []corev1.VolumeMount{{Name: "v1", MountPath: "/a"}}}},
				Containers: []corev1.Container{
					{Name: "c1", Image: "c:1"},
					{Name: "c2", Image: "c:2", VolumeMounts: []corev1.VolumeMount{{Name: "v2", MountPath: "/b"}, {Name: "v3", MountPath: "/c"}}},
				},
				EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
					Name: "e", Image: "e:1", VolumeMounts: []corev1.VolumeMount{{Name: "v4", MountPath: "/d"}}}}},
			},
			want: policy.PodSpec{
				ServiceAccountName:           "sa",
				AutomountServiceAccountToken: ptr(true),
				Containers: []policy.Container{
					{Name: "i", Image: "i:1", Kind: policy.ContainerInit, VolumeMounts: []policy.VolumeMount{{Name: "v1", MountPath: "/a"}}},
					{Name: "c1", Image: "c:1", Kind: policy.ContainerRegular},
					{Name: "c2", Image: "c:2", Kind: policy.ContainerRegular, VolumeMounts: []policy.VolumeMount{{Name: "v2", MountPath: "/b"}, {Name: "v3", MountPath: "/c"}}},
					{Name: "e", Image: "e:1", Kind: policy.ContainerEphemeral, VolumeMounts: []policy.VolumeMount{{Name: "v4", MountPath: "/d"}}},
				},
			},
		},
		{
			name: "volumes: secret kept, projected token sources one each, others dropped",
			in: &corev1.PodSpec{
				AutomountServiceAccountToken: ptr(false),
				Volumes: []corev1.Volume{
					{Name: "empty", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "legacy", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "default-token-abcde"}}},
					{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr(int64(3607))}},
						{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "vault", Audience: "vault"}},
					}}}},
					{Name: "cm-only", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
						{ConfigMap: &corev1.ConfigMapProjection{}},
					}}}},
				},
			},
			want: policy.PodSpec{
				AutomountServiceAccountToken: ptr(false),
				Volumes: []policy.Volume{
					{Name: "legacy", SecretName: "default-token-abcde"},
					{Name: "kube-api-access", ServiceAccountToken: &policy.ProjectedToken{Path: "token", ExpirationSeconds: ptr(int64(3607))}},
					{Name: "kube-api-access", ServiceAccountToken: &policy.ProjectedToken{Path: "vault", Audience: "vault"}},
				},
			},
		},
		{
			name: "env: AWS_* variables kept in order, literal values only",
			in: &corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "i", Image: "i:1", Env: []corev1.EnvVar{{Name: "AWS_REGION", Value: "us-east-1"}}}},
				Containers: []corev1.Container{
					{Name: "none", Image: "c:1", Env: []corev1.EnvVar{{Name: "PORT", Value: "80"}, {Name: "aws_region", Value: "x"}, {Name: "MY_AWS_ROLE", Value: "x"}}},
					{Name: "irsa", Image: "c:2", Env: []corev1.EnvVar{
						{Name: "AWS_STS_REGIONAL_ENDPOINTS", Value: "regional"},
						{Name: "LOG_LEVEL", Value: "info"},
						{Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/api"},
						{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
					}},
				},
				EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
					Name: "e", Image: "e:1", Env: []corev1.EnvVar{
						{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
						{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					}}}},
			},
			want: policy.PodSpec{
				Containers: []policy.Container{
					{Name: "i", Image: "i:1", Kind: policy.ContainerInit, Env: []policy.EnvVar{{Name: "AWS_REGION", Value: "us-east-1"}}},
					{Name: "none", Image: "c:1", Kind: policy.ContainerRegular},
					{Name: "irsa", Image: "c:2", Kind: policy.ContainerRegular, Env: []policy.EnvVar{
						{Name: "AWS_STS_REGIONAL_ENDPOINTS", Value: "regional"},
						{Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/api"},
						{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
					}},
					{Name: "e", Image: "e:1", Kind: policy.ContainerEphemeral, Env: []policy.EnvVar{
						{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
						{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"},
					}},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodSpecFromCore(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %s\nwant %s", dumpPod(got), dumpPod(tt.want))
			}
		})
	}
}

func TestPodSpecFromCoreDoesNotAlias(t *testing.T) {
	in := benchPodSpec()
	in.InitContainers[0].Env = []corev1.EnvVar{{Name: "AWS_REGION", Value: "us-east-1"}}
	in.Containers[0].Env = []corev1.EnvVar{{Name: "AWS_REGION", Value: "us-east-1"}}
	got := PodSpecFromCore(in)
	*in.AutomountServiceAccountToken = false
	*in.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds = 1
	if !*got.AutomountServiceAccountToken {
		t.Error("AutomountServiceAccountToken aliases the input")
	}
	if e := *got.Volumes[0].ServiceAccountToken.ExpirationSeconds; e != 3607 {
		t.Errorf("ExpirationSeconds = %d, want 3607 (aliases the input)", e)
	}
	// Appending to one container's mounts must not overwrite the next one's.
	got.Containers[0].VolumeMounts = append(got.Containers[0].VolumeMounts, policy.VolumeMount{Name: "x"})
	if n := got.Containers[1].VolumeMounts[0].Name; n != "kube-api-access" {
		t.Errorf("second container's first mount = %q after append to the first", n)
	}
	got.Containers[0].Env = append(got.Containers[0].Env, policy.EnvVar{Name: "x"})
	if n := got.Containers[1].Env[0].Name; n != "AWS_REGION" {
		t.Errorf("second container's first variable = %q after append to the first", n)
	}
}

// benchPodSpec is a typical pod: an init container, two containers with the
// kube-api-access projected volume, a secret volume and a configMap.
func benchPodSpec() *corev1.PodSpec {
	mounts := []corev1.VolumeMount{
		{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"},
		{Name: "config", MountPath: "/etc/app"},
	}
	return &corev1.PodSpec{
		ServiceAccountName:           "api",
		AutomountServiceAccountToken: ptr(true),
		InitContainers:               []corev1.Container{{Name: "migrate", Image: "ghcr.io/acme/migrate:2.0", VolumeMounts: mounts[:1]}},
		Containers: []corev1.Container{
			{Name: "api", Image: "ghcr.io/acme/api:1.4", VolumeMounts: mounts},
			{Name: "sidecar", Image: "ghcr.io/acme/proxy:0.9", VolumeMounts: mounts[:1]},
		},
		Volumes: []corev1.Volume{
			{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr(int64(3607))}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
			}}}},
			{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "api-tls"}}},
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
		},
	}
}

// benchEnv is the environment the EKS pod identity webhook leaves for
// IRSA among a container's own variables.
var benchEnv = []corev1.EnvVar{
	{Name: "LOG_LEVEL", Value: "info"},
	{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	{Name: "AWS_STS_REGIONAL_ENDPOINTS", Value: "regional"},
	{Name: "AWS_DEFAULT_REGION", Value: "us-east-1"},
	{Name: "AWS_REGION", Value: "us-east-1"},
	{Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/api"},
	{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
}

func BenchmarkPodSpecFromCore(b *testing.B) {
	benches := []struct {
		name string
		spec *corev1.PodSpec
	}{
		{name: "typical", spec: benchPodSpec()},
		{name: "irsa", spec: func() *corev1.PodSpec {
			s := benchPodSpec()
			for i := range s.InitContainers {
				s.InitContainers[i].Env = benchEnv
			}
			for i := range s.Containers {
				s.Containers[i].Env = benchEnv
			}
			return s
		}()},
		{name: "containers=50", spec: func() *corev1.PodSpec {
			s := benchPodSpec()
			for i := 0; len(s.Containers) < 50; i++ {
				s.Containers = append(s.Containers, corev1.Container{Name: fmt.Sprint("c", i), Image: "i:1", VolumeMounts: s.Containers[0].VolumeMounts})
			}
			return s
		}()},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = PodSpecFromCore(bb.spec)
			}
		})
	}
}
