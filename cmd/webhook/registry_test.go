package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tokenguard/tokenguard/pkg/kube/kubetest"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

func TestPullSecretsHook(t *testing.T) {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "regcred", ResourceVersion: "1"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example.com":{"username":"u","password":"p"}}}`)},
	})
	hook, stop := pullSecretsHook(context.Background(), kubetest.New(client), 10*time.Second, slog.New(slog.DiscardHandler))
	defer stop()
	ctx := context.Background()
	if got := hook(ctx, "team", &policy.PodSpec{ImagePullSecrets: []string{"regcred"}}); got == ctx {
		t.Error("a pod with a pull secret got no credentials")
	}
	for _, pod := range []*policy.PodSpec{{}, {ImagePullSecrets: []string{"missing"}}} {
		if got := hook(ctx, "team", pod); got != ctx {
			t.Errorf("pod %+v: the context changed without credentials", pod)
		}
	}
	if got := hook(ctx, "elsewhere", &policy.PodSpec{ImagePullSecrets: []string{"regcred"}}); got != ctx {
		t.Error("another namespace's secret was used")
	}
}

func TestStartPullSecretsWithoutCluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	hook, stop := startPullSecrets(context.Background(), "", slog.New(slog.DiscardHandler))
	defer stop()
	if hook != nil {
		t.Error("a hook without a cluster")
	}
}
