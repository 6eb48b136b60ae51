package pullsecrets

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tokenguard/tokenguard/pkg/kube/kubetest"
)

func dockerConfigJSON(ns, n, rv, cfg string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n, ResourceVersion: rv},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(cfg)},
	}
}

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// started returns synced PullSecrets over a fake clientset holding objs.
func started(t *testing.T, objs ...any) (*PullSecrets, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Secret:
			_, err = client.CoreV1().Secrets(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
		case *corev1.ServiceAccount:
			_, err = client.CoreV1().ServiceAccounts(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	ps := New(kubetest.New(client), 0)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ps.Shutdown() })
	ps.Start(ctx)
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if !ps.WaitForSync(sctx) {
		t.Fatal("informers did not sync")
	}
	return ps, client
}

// resolve returns "user:pass" for image's repository, or "anonymous".
func resolve(t *testing.T, kc authn.Keychain, image string) string {
	t.Helper()
	if kc == nil {
		return "anonymous"
	}
	ref, err := name.ParseReference(image)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(ref.Context())
	if err != nil {
		t.Fatal(err)
	}
	if a == authn.Anonymous {
		return "anonymous"
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Username + ":" + cfg.Password
}

func TestKeychain(t *testing.T) {
	ps, client := started(t,
		dockerConfigJSON("team", "regcred", "1", `{"auths":{"registry.example.com":{"auth":"`+basic("alice", "s3cret")+`"}}}`),
		dockerConfigJSON("team", "sa-cred", "2", `{"auths":{"https://ghcr.io":{"username":"bob","password":"tok"}}}`),
		dockerConfigJSON("other", "regcred", "3", `{"auths":{"registry.example.com":{"username":"eve","password":"x"}}}`),
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "opaque"},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"username":"no","password":"no"}}}`)},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "legacy", ResourceVersion: "4"},
			Type:       corev1.SecretTypeDockercfg,
			Data:       map[string][]byte{corev1.DockerConfigKey: []byte(`{"https://index.docker.io/v1/":{"username":"carol","password":"hub"}}`)},
		},
		&corev1.ServiceAccount{
			ObjectMeta:       metav1.ObjectMeta{Namespace: "team", Name: "builder"},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "sa-cred"}, {Name: "missing"}},
		},
		&corev1.ServiceAccount{
			ObjectMeta:       metav1.ObjectMeta{Namespace: "team", Name: "default"},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "legacy"}},
		},
	)
	before := len(client.Actions())

	// The pod's secret, for its registry only.
	key, kc := ps.Keychain("team", "nobody", []string{"regcred"})
	if key == "" || kc == nil {
		t.Fatal("no keychain for a pod with a pull secret")
	}
	for image, want := range map[string]string{
		"registry.example.com/team/app:1.0": "alice:s3cret",
		"REGISTRY.example.com/team/app:1.0": "alice:s3cret",
		"ghcr.io/team/app:1.0":              "anonymous",
		"registry.example.com:5000/app:1.0": "anonymous",
	} {
		if got := resolve(t, kc, image); got != want {
			t.Errorf("pod secret, %s: %s, want %s", image, got, want)
		}
	}

	// The service account's secrets come after the pod's; a missing
	// secret is skipped.
	key2, kc := ps.Keychain("team", "builder", []string{"regcred", "missing"})
	if key2 == key {
		t.Errorf("different secrets, same key %q", key)
	}
	if got := resolve(t, kc, "ghcr.io/team/app:1.0"); got != "bob:tok" {
		t.Errorf("service account secret: %s, want bob:tok", got)
	}
	if got := resolve(t, kc, "registry.example.com/team/app:1.0"); got != "alice:s3cret" {
		t.Errorf("pod secret with service account: %s", got)
	}

	// No service account name means "default"; dockercfg secrets count.
	_, kc = ps.Keychain("team", "", nil)
	if got := resolve(t, kc, "nginx:1.27"); got != "carol:hub" {
		t.Errorf("default service account's dockercfg secret for Docker Hub: %s", got)
	}

	// Secrets are per namespace.
	_, kc = ps.Keychain("other", "", []string{"regcred"})
	if got := resolve(t, kc, "registry.example.com/team/app:1.0"); got != "eve:x" {
		t.Errorf("other namespace: %s, want eve:x", got)
	}

	// Nothing usable: no keychain.
	for _, secrets := range [][]string{nil, {"missing"}, {"opaque"}} {
		if key, kc := ps.Keychain("team", "nobody", secrets); key != "" || kc != nil {
			t.Errorf("secrets %q: key %q, keychain %v; want none", secrets, key, kc)
		}
	}

	// Every answer came from the informer caches.
	if after := len(client.Actions()); after != before {
		t.Errorf("Keychain sent %d API requests: %v", after-before, client.Actions()[before:])
	}
}

func TestKeychainFollowsSecretChanges(t *testing.T) {
	ps, client := started(t, dockerConfigJSON("team", "regcred", "1", `{"auths":{"registry.example.com":{"username":"alice","password":"old"}}}`))
	key, _ := ps.Keychain("team", "", []string{"regcred"})
	s := dockerConfigJSON("team", "regcred", "2", `{"auths":{"registry.example.com":{"username":"alice","password":"new"}}}`)
	if _, err := client.CoreV1().Secrets("team").Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		key2, kc := ps.Keychain("team", "", []string{"regcred"})
		if resolve(t, kc, "registry.example.com/app:1") == "alice:new" {
			if key2 == key {
				t.Errorf("the key did not change with the secret: %q", key)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the update never reached the keychain")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDockerConfigMatching(t *testing.T) {
	s := dockerConfigJSON("ns", "s", "1", `{"auths":{
		"*.dkr.ecr.*.amazonaws.com": {"username":"AWS","password":"ecr"},
		"registry.example.com/team-a": {"username":"a","password":"a"},
		"registry.example.com": {"username":"any","password":"any"},
		"http://insecure.local:5000/": {"identitytoken":"idt"},
		"empty.example.com": {}
	}}`)
	kc := newKeychain(parseSecret(s))
	for image, want := range map[string]string{
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1": "AWS:ecr",
		"123456789012.dkr.ecr.amazonaws.com/app:1":           "anonymous",
		"registry.example.com/team-a/app:1":                  "a:a",
		"registry.example.com/team-ab/app:1":                 "any:any",
		"registry.example.com/team-b/app:1":                  "any:any",
		"insecure.local:5000/app:1":                          ":",
		"empty.example.com/app:1":                            "anonymous",
	} {
		if got := resolve(t, kc, image); got != want {
			t.Errorf("%s: %s, want %s", image, got, want)
		}
	}
	for _, bad := range []*corev1.Secret{
		dockerConfigJSON("ns", "s", "1", `not json`),
		{Type: corev1.SecretTypeDockercfg, Data: map[string][]byte{corev1.DockerConfigKey: []byte(`[]`)}},
		{Type: corev1.SecretTypeBasicAuth},
	} {
		if e := parseSecret(bad); len(e) != 0 {
			t.Errorf("parseSecret(%s) = %v", bad.Type, e)
		}
	}
}
