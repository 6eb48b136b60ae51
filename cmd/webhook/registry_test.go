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
)

// TestStartPullSecrets: the credentials are those of the puller's own
// namespace and secrets, nothing else.
func TestStartPullSecrets(t *testing.T) {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "regcred", ResourceVersion: "1"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example.com":{"username":"u","password":"p"}}}`)},
	})
	creds, stop := startPullSecrets(context.Background(), kubetest.New(client), 10*time.Second, slog.New(slog.DiscardHandler))
	defer stop()
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
