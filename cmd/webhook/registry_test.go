package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tokenguard/tokenguard/pkg/kube/kubetest"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// TestStartPullSecrets: the credentials are those of the puller's own
// namespace and secrets, nothing else; the service account cache says
// which service accounts use IRSA.
func TestStartPullSecrets(t *testing.T) {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "regcred", ResourceVersion: "1"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example.com":{"username":"u","password":"p"}}}`)},
	}, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "s3-reader", Annotations: map[string]string{
			"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/s3-reader", "eks.amazonaws.com/token-expiration": "8640000"}},
	}, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "default"}})
	ps, stop := startPullSecrets(context.Background(), kubetest.New(client), 10*time.Second, slog.New(slog.DiscardHandler))
	defer stop()
	creds := ps.Keychain
	if got := ps.AWSContext("team", "s3-reader"); !got.Mechanisms.Has(policy.AWSIRSA) || got.TokenExpiration != "8640000" || got.TokenExpirationFrom != `service account "s3-reader"` {
		t.Errorf("AWSContext(team, s3-reader) = %+v, want IRSA with the token expiration", got)
	}
	for _, sa := range []string{"", "default", "missing"} {
		if got := ps.AWSContext("team", sa); got != (policy.AWSContext{}) {
			t.Errorf("AWSContext(team, %q) = %+v, want nothing", sa, got)
		}
	}
	if got := ps.AWSContext("other", "s3-reader"); got != (policy.AWSContext{}) {
		t.Errorf("another namespace's service account was used: %+v", got)
	}
	if key, kc := creds("team", "", []string{"regcred"}); key == "" || kc == nil {
		t.Error("a pod with a pull secret got no credentials")
	}
	for _, secrets := range [][]string{nil, {"missing"}} {
		if key, _ := creds("team", "", secrets); key != "" {
			t.Errorf("secrets %v: credentials %q", secrets, key)
		}
	}
	if key, _ := creds("elsewhere", "", []string{"regcred"}); key != "" {
		t.Error("another namespace's secret was used")
	}
}

func TestClusterClientWithoutCluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := clusterClient("", time.Second); !errors.Is(err, errNoCluster) {
		t.Errorf("err %v, want errNoCluster", err)
	}
}
