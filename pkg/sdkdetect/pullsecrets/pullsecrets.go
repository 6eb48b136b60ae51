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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/tokenguard/tokenguard/pkg/awsid"
	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// DefaultResync is the informers' resync period.
const DefaultResync = 10 * time.Minute

// Client lists and watches service accounts and secrets ("" namespace is
// every namespace): *kube.Client, or in tests a clientset through
// kubetest.Clientset.
type Client interface {
	ListServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.ServiceAccountList, error)
	WatchServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
	ListSecrets(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.SecretList, error)
	WatchSecrets(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
}

// PullSecrets answers "which registry credentials may this pod use" from
// informer caches. Create it with New, then Start and WaitForSync.
type PullSecrets struct {
	// Informers: Start, WaitForSync, Shutdown.
	kube.Informers
	serviceAccount cache.Indexer   // *corev1.ServiceAccount by "namespace/name"
	secrets        []cache.Indexer // *corev1.Secret by "namespace/name", one per type
}

// New returns PullSecrets reading through client. Nothing is sent before
// Start.
func New(client Client, resync time.Duration) *PullSecrets {
	if resync <= 0 {
		resync = DefaultResync
	}
	ps := &PullSecrets{}
	sa := newInformer(client, &corev1.ServiceAccount{}, "serviceaccounts", resync,
		kube.ListWatch(client.ListServiceAccounts, client.WatchServiceAccounts, ""))
	ps.serviceAccount = sa.GetIndexer()
	ps.Add(sa)
	// A field selector takes one value per field, hence one informer per
	// secret type.
	for _, t := range []corev1.SecretType{corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg} {
		selector := fields.OneTermEqualSelector("type", string(t)).String()
		inf := newInformer(client, &corev1.Secret{}, "secrets of type "+string(t), resync,
			kube.ListWatch(client.ListSecrets, client.WatchSecrets, selector))
		ps.secrets = append(ps.secrets, inf.GetIndexer())
		ps.Add(inf)
	}
	return ps
}

// newInformer is an informer of lw's objects, keyed "namespace/name"
// (Keychain's only lookup, so no indexes), keeping no managed fields.
func newInformer(client Client, example runtime.Object, description string, resync time.Duration, lw *cache.ListWatch) cache.SharedIndexInformer {
	// The client says whether its watches can stream the initial list (a
	// fake clientset's cannot), as the clientset's informers do.
	inf := cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client), example,
		cache.SharedIndexInformerOptions{ResyncPeriod: resync, ObjectDescription: description})
	_ = inf.SetTransform(stripManagedFields) // cannot fail before Run
	return inf
}

// stripManagedFields drops metadata.managedFields, which Keychain never
// reads, from cached objects.
func stripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// AWSContext says which AWS credentials the pods of a service account (""
// is "default") get, from its annotations in the informer cache: IRSA when
// it has eks.amazonaws.com/role-arn, and the token lifetime it asks for.
// An unknown service account knows nothing.
func (ps *PullSecrets) AWSContext(namespace, serviceAccount string) policy.AWSContext {
	if serviceAccount == "" {
		serviceAccount = "default"
	}
	sa, ok := get[*corev1.ServiceAccount](ps.serviceAccount, namespace, serviceAccount)
	if !ok || len(sa.Annotations) == 0 {
		return policy.AWSContext{}
	}
	return awsid.FromServiceAccount(serviceAccount, sa.Annotations)
}

// Keychain returns the credentials a pod of namespace may pull with: its
// podSecrets, then the image pull secrets of its service account (""
// means "default"), read from the informer caches only. Missing secrets,
// secrets of other types and malformed ones are skipped. key names the
// credentials for registry.Options.Credentials: it holds every secret's
// resourceVersion, so it changes when a secret does. Without any usable
// secret, key is "" and kc nil (the default keychain alone applies).
func (ps *PullSecrets) Keychain(namespace, serviceAccount string, podSecrets []string) (key string, kc authn.Keychain) {
	if serviceAccount == "" {
		serviceAccount = "default"
	}
	names := slices.Clone(podSecrets)
	if sa, ok := get[*corev1.ServiceAccount](ps.serviceAccount, namespace, serviceAccount); ok {
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
	for _, idx := range ps.secrets {
		if s, ok := get[*corev1.Secret](idx, namespace, name); ok {
			return s
		}
	}
	return nil
}

// get returns the cached object namespace/name of idx.
func get[T runtime.Object](idx cache.Indexer, namespace, name string) (T, bool) {
	obj, exists, err := idx.GetByKey(namespace + "/" + name)
	if err != nil || !exists {
		var zero T
		return zero, false
	}
	t, ok := obj.(T)
	return t, ok
}
