package policy

import "testing"

func TestAWSCredentials(t *testing.T) {
	irsaEnv := []EnvVar{{"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/orders"}, {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}}
	pidEnv := func(uri string) []EnvVar {
		return []EnvVar{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", uri}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}}
	}
	tokenVolume := func(name, audience string) Volume {
		return Volume{Name: name, ServiceAccountToken: &ProjectedToken{Path: "token", Audience: audience}}
	}
	for _, tt := range []struct {
		name string
		pod  PodSpec
		want AWSMechanism
	}{
		{"nothing", PodSpec{Containers: []Container{{Name: "c", Env: []EnvVar{{"AWS_REGION", "eu-west-1"}}}}}, 0},
		{"IRSA environment", PodSpec{Containers: []Container{{Name: "c", Env: irsaEnv}}}, AWSIRSA},
		{"role without token file", PodSpec{Containers: []Container{{Name: "c", Env: irsaEnv[:1]}}}, 0},
		{"Pod Identity over IPv4", PodSpec{Containers: []Container{{Name: "c", Env: pidEnv("http://169.254.170.23/v1/credentials")}}}, AWSPodIdentity},
		{"Pod Identity over IPv6", PodSpec{Containers: []Container{{Name: "c", Env: pidEnv("http://[fd00:ec2::23]/v1/credentials")}}}, AWSPodIdentity},
		{"Pod Identity, IPv6 written long", PodSpec{Containers: []Container{{Name: "c", Env: pidEnv("http://[fd00:ec2:0:0:0:0:0:23]:80/v1/credentials")}}}, AWSPodIdentity},
		{"the ECS agent is not Pod Identity", PodSpec{Containers: []Container{{Name: "c", Env: pidEnv("http://169.254.170.2/v2/credentials/x")}}}, 0},
		{"a URI that does not parse", PodSpec{Containers: []Container{{Name: "c", Env: pidEnv("http://[::1")}}}, 0},
		{"IRSA token volume mounted", PodSpec{
			Volumes:    []Volume{tokenVolume("aws-iam-token", AudienceIRSA)},
			Containers: []Container{{Name: "c", VolumeMounts: []VolumeMount{{Name: "aws-iam-token", MountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount"}}}},
		}, AWSIRSA},
		{"Pod Identity token volume mounted", PodSpec{
			Volumes:    []Volume{tokenVolume("eks-pod-identity-token", AudiencePodIdentity)},
			Containers: []Container{{Name: "c", VolumeMounts: []VolumeMount{{Name: "eks-pod-identity-token"}}}},
		}, AWSPodIdentity},
		{"token volume not mounted in this container", PodSpec{
			Volumes:    []Volume{tokenVolume("aws-iam-token", AudienceIRSA)},
			Containers: []Container{{Name: "c"}},
		}, 0},
		{"both", PodSpec{Containers: []Container{{Name: "c", Env: append(append([]EnvVar{}, irsaEnv...), pidEnv("http://169.254.170.23/v1/credentials")...)}}}, AWSIRSA | AWSPodIdentity},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := AWSCredentials(&tt.pod, &tt.pod.Containers[0]); got != tt.want {
				t.Errorf("AWSCredentials = %q, want %q", got, tt.want)
			}
		})
	}
}
