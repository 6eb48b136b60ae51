package corpus

import (
	"context"
	"testing"
	"time"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// awsCase is a corpus image judged for one AWS credential mechanism by one
// catalog rule: the real artifact's version on one side of the minimum.
type awsCase struct {
	image, credentials, rule string
	want                     policy.Verdict
}

// awsCases hold the AWS SDK rules to the real artifacts: Go programs
// linking the modules just below and at the Pod Identity minimums, npm
// aws-sdk on both sides of IRSA's and Pod Identity's, Debian's botocore
// and Ruby gem (fine for IRSA, too old for Pod Identity).
var awsCases = []awsCase{
	{"go/aws-sdk-go-v1.47.10", policy.CredentialsPodIdentity, "github.com/aws/aws-sdk-go#pod-identity", policy.VerdictTooOld},
	{"go/aws-sdk-go-v1.47.10", policy.CredentialsIRSA, "github.com/aws/aws-sdk-go#irsa", policy.VerdictOK},
	{"go/aws-sdk-go-v1.47.11", policy.CredentialsPodIdentity, "github.com/aws/aws-sdk-go#pod-identity", policy.VerdictOK},
	{"go/aws-sdk-go-v1.47.10", "", "github.com/aws/aws-sdk-go#pod-identity", policy.VerdictNotApplicable},
	{"go/aws-sdk-go-v2-config-v1.24.0", policy.CredentialsPodIdentity, "github.com/aws/aws-sdk-go-v2/config#pod-identity", policy.VerdictTooOld},
	{"go/aws-sdk-go-v2-config-v1.24.0", policy.CredentialsPodIdentity, "github.com/aws/aws-sdk-go-v2/credentials#pod-identity", policy.VerdictTooOld},
	{"go/aws-sdk-go-v2-config-v1.25.0", policy.CredentialsPodIdentity, "github.com/aws/aws-sdk-go-v2/config#pod-identity", policy.VerdictOK},
	{"go/aws-sdk-go-v2-config-v1.25.0", policy.CredentialsPodIdentity, "github.com/aws/aws-sdk-go-v2/credentials#pod-identity", policy.VerdictOK},
	{"node/aws-sdk-2.1550.0", policy.CredentialsPodIdentity, "npm:aws-sdk#pod-identity", policy.VerdictOK},
	{"node/pnpm", policy.CredentialsIRSA, "npm:aws-sdk#irsa", policy.VerdictTooOld},
	{"python/debian-boto3", policy.CredentialsIRSA, "pypi:botocore#irsa", policy.VerdictOK},
	{"python/debian-boto3", policy.CredentialsPodIdentity, "pypi:botocore#pod-identity", policy.VerdictTooOld},
	{"ruby/gems", policy.CredentialsIRSA, "gem:aws-sdk-core#irsa", policy.VerdictOK},
	{"ruby/gems", policy.CredentialsPodIdentity, "gem:aws-sdk-core#pod-identity", policy.VerdictTooOld},
	{"java/spring-boot", policy.CredentialsIRSA, "software.amazon.awssdk:auth#irsa", policy.VerdictOK},
	{"java/spring-boot", policy.CredentialsPodIdentity, "software.amazon.awssdk:auth#pod-identity", policy.VerdictTooOld},
	{"dotnet/app", policy.CredentialsPodIdentity, "nuget:AWSSDK.Core#pod-identity", policy.VerdictTooOld},
	{"dotnet/app", policy.CredentialsIRSA, "nuget:AWSSDK.Core#irsa", policy.VerdictOK},
}

// checkAWSVerdicts scans the images of awsCases through the registry
// source and judges each with the embedded catalog, for a container whose
// environment is what the EKS webhooks inject for the mechanism.
func checkAWSVerdicts(t *testing.T, host string, refs map[string]string) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	src := scanSource(host)
	defer src.Close()
	for _, tc := range awsCases {
		t.Run(tc.image+" "+tc.credentials+" "+tc.rule, func(t *testing.T) {
			ref, ok := refs[tc.image]
			if !ok {
				t.Fatalf("no corpus image %s", tc.image)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			ev := src.Evidence(ctx, policy.Puller{}, ref)
			pod := &policy.PodSpec{Containers: []policy.Container{{Name: "app", Image: ref, Env: mechanismEnv(tc.credentials)}}}
			var got *policy.Finding
			findings := cat.Evaluate(pod, []*policy.Evidence{ev}, policy.Options{})
			for i := range findings {
				if findings[i].Component == tc.rule {
					got = &findings[i]
				}
			}
			switch {
			case got == nil:
				t.Fatalf("no finding of rule %s; packages %v, findings %+v", tc.rule, ev.Packages, findings)
			case got.Verdict != tc.want:
				t.Errorf("%s %s: %s, want %s: %s", got.Version, got.File, got.Verdict, tc.want, got.Message())
			case got.File == "":
				t.Errorf("finding names no file: %s", got.Message())
			}
		})
	}
}

// mechanismEnv is the environment the EKS webhooks inject.
func mechanismEnv(credentials string) []policy.EnvVar {
	switch credentials {
	case policy.CredentialsIRSA:
		return []policy.EnvVar{{Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::111122223333:role/app"},
			{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}}
	case policy.CredentialsPodIdentity:
		return []policy.EnvVar{{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
			{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}}
	}
	return nil
}
