// Package pullsecrets finds registry credentials for a pod as the kubelet
// does: its image pull secrets and its service account's, read from
// informer caches (one watch of service accounts and of pull secrets per
// webhook, never an API call per review).
//
// It needs get, list and watch on secrets and serviceaccounts in every
// namespace (deploy/components/registry-credentials). Only secrets of type
// kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg are watched
// (by field selector), so other secrets are never cached.
//
// ECR and other registries whose credentials expire are not handled here:
// the default keychain, tried after the pull secrets, honours a Docker
// config's credHelpers (docker-credential-ecr-login on the PATH, with the
// webhook's IAM role); or put a pull secret refreshed by a controller in
// the pod's namespace.
package pullsecrets

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// DefaultResync is the informers' resync period.
const DefaultResync = 10 * time.Minute

// PullSecrets answers "which registry credentials may this pod use" from
// informer caches. Create it with New, then Start and WaitForSync.
type PullSecrets struct {
	factories      []informers.SharedInformerFactory
	serviceAccount corelisters.ServiceAccountLister
	secrets        []corelisters.SecretLister
	synced         []cache.InformerSynced
}

// New returns PullSecrets reading through client. Nothing is sent before
// Start.
func New(client kubernetes.Interface, resync time.Duration) *PullSecrets {
	if resync <= 0 {
		resync = DefaultResync
	}
	ps := &PullSecrets{}
	sa := informers.NewSharedInformerFactory(client, resync)
	ps.serviceAccount = sa.Core().V1().ServiceAccounts().Lister()
	ps.synced = append(ps.synced, sa.Core().V1().ServiceAccounts().Informer().HasSynced)
	ps.factories = append(ps.factories, sa)
	// A field selector takes one value per field, hence one informer per
	// secret type.
	for _, t := range []corev1.SecretType{corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg} {
		selector := fields.OneTermEqualSelector("type", string(t)).String()
		f := informers.NewSharedInformerFactoryWithOptions(client, resync,
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }))
		inf := f.Core().V1().Secrets()
		ps.secrets = append(ps.secrets, inf.Lister())
		ps.synced = append(ps.synced, inf.Informer().HasSynced)
		ps.factories = append(ps.factories, f)
	}
	return ps
}

// Start starts the informers; they stop when ctx ends (call Shutdown to
// wait for them).
func (ps *PullSecrets) Start(ctx context.Context) {
	for _, f := range ps.factories {
		f.Start(ctx.Done())
	}
}

// Shutdown waits for the informers to stop, after Start's ctx has ended.
func (ps *PullSecrets) Shutdown() {
	for _, f := range ps.factories {
		f.Shutdown()
	}
}

// WaitForSync waits until every informer has listed once, or ctx ends;
// it reports whether they all synced.
func (ps *PullSecrets) WaitForSync(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), ps.synced...)
}

// Keychain returns the credentials a pod of namespace may pull with: its
// podSecrets, then the image pull secrets of its service account (""
// means "default"), read from the informer caches only. Missing secrets,
// secrets of other types and malformed ones are skipped. key names the
// credentials for registry.WithKeychain: it holds every secret's
// resourceVersion, so it changes when a secret does. Without any usable
// secret, key is "" and kc nil (the default keychain alone applies).
func (ps *PullSecrets) Keychain(namespace, serviceAccount string, podSecrets []string) (key string, kc authn.Keychain) {
	if serviceAccount == "" {
		serviceAccount = "default"
	}
	names := slices.Clone(podSecrets)
	if sa, err := ps.serviceAccount.ServiceAccounts(namespace).Get(serviceAccount); err == nil {
		for _, r := range sa.ImagePullSecrets {
			names = append(names, r.Name)
		}
	}
	var entries []entry
	var b strings.Builder
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		s := ps.secret(namespace, n)
		if s == nil {
			continue
		}
		e := parseSecret(s)
		if len(e) == 0 {
			continue
		}
		entries = append(entries, e...)
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + "@" + s.ResourceVersion + "#" + string(s.UID))
	}
	if len(entries) == 0 {
		return "", nil
	}
	return namespace + "/" + b.String(), newKeychain(entries)
}

func (ps *PullSecrets) secret(namespace, name string) *corev1.Secret {
	for _, l := range ps.secrets {
		if s, err := l.Secrets(namespace).Get(name); err == nil {
			return s
		}
	}
	return nil
}
