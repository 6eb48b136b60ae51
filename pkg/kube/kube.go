// Package kube is tokenguard's narrow client of the Kubernetes API: only
// the requests the webhook, the audit command and the controller send (list
// and watch pods, replica sets, jobs, service accounts and secrets; the
// controller's Lease; the server version), on k8s.io/client-go/rest with a
// scheme of core/v1, apps/v1, batch/v1 and coordination.k8s.io/v1 only.
//
// The generated clientset (k8s.io/client-go/kubernetes), its informers,
// listers and discovery client register every API group of Kubernetes:
// linked into the binary they cost about 20 MB of file size and 10 MB of
// resident memory, for three resources read. Do not import them outside
// tests (cmd/webhook's TestBinaryDependencies fails if the binary links
// them).
//
// Requests and answers are JSON. Errors name the request: "cannot list pods
// in namespace "team": ...".
package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

var (
	scheme         = runtime.NewScheme()
	codecs         = serializer.NewCodecFactory(scheme)
	parameterCodec = runtime.NewParameterCodec(scheme)
)

func init() {
	// As the clientset's scheme does, for its three groups only: the
	// unversioned meta types (Status, WatchEvent, the options) under "v1",
	// then each group with its own copy of the options.
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	utilruntime.Must(corev1.AddToScheme(scheme))
	utilruntime.Must(appsv1.AddToScheme(scheme))
	utilruntime.Must(batchv1.AddToScheme(scheme))
	utilruntime.Must(coordinationv1.AddToScheme(scheme))
}

// Client reads the resources tokenguard needs. Its methods are safe for
// concurrent use.
type Client struct {
	core, apps, batch, coordination rest.Interface
	host                            string
}

// NewForConfig returns a Client for cfg (not modified). Without a
// cfg.UserAgent it sends client-go's default one; set "tokenguard/<version>".
// As the clientset does, the three API groups share one HTTP client and,
// when cfg.QPS is set, one rate limiter.
func NewForConfig(cfg *rest.Config) (*Client, error) {
	c := rest.CopyConfig(cfg)
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	if c.RateLimiter == nil && c.QPS > 0 {
		if c.Burst <= 0 {
			return nil, fmt.Errorf("the client configuration sets QPS %v without a Burst; set Burst to at least 1", c.QPS)
		}
		c.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(c.QPS, c.Burst)
	}
	httpClient, err := rest.HTTPClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("cannot build an HTTP client for the API server %s: %w", c.Host, err)
	}
	return NewForConfigAndClient(c, httpClient)
}

// NewForConfigAndClient is NewForConfig with the given HTTP client, which
// takes precedence over cfg's transport settings.
func NewForConfigAndClient(cfg *rest.Config, httpClient *http.Client) (*Client, error) {
	client := &Client{host: cfg.Host}
	for _, g := range []struct {
		gv      schema.GroupVersion
		apiPath string
		into    *rest.Interface
	}{
		{corev1.SchemeGroupVersion, "/api", &client.core},
		{appsv1.SchemeGroupVersion, "/apis", &client.apps},
		{batchv1.SchemeGroupVersion, "/apis", &client.batch},
		{coordinationv1.SchemeGroupVersion, "/apis", &client.coordination},
	} {
		c := rest.CopyConfig(cfg)
		c.GroupVersion = &g.gv
		c.APIPath = g.apiPath
		c.NegotiatedSerializer = codecs.WithoutConversion()
		c.ContentType = runtime.ContentTypeJSON
		c.AcceptContentTypes = runtime.ContentTypeJSON
		if c.UserAgent == "" {
			c.UserAgent = rest.DefaultKubernetesUserAgent()
		}
		rc, err := rest.RESTClientForConfigAndClient(c, httpClient)
		if err != nil {
			return nil, fmt.Errorf("cannot build a client of %s for the API server %s: %w", g.gv, cfg.Host, err)
		}
		*g.into = rc
	}
	return client, nil
}

// ListPods lists the pods of namespace ("" is every namespace).
func (c *Client) ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	l := &corev1.PodList{}
	return l, list(ctx, c.core, "pods", namespace, opts, l)
}

// WatchPods watches the pods of namespace ("" is every namespace).
func (c *Client) WatchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	return watchResource(ctx, c.core, "pods", namespace, opts)
}

// WatchReplicaSets watches the replica sets of namespace ("" is every
// namespace).
func (c *Client) WatchReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	return watchResource(ctx, c.apps, "replicasets", namespace, opts)
}

// WatchJobs watches the jobs of namespace ("" is every namespace).
func (c *Client) WatchJobs(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	return watchResource(ctx, c.batch, "jobs", namespace, opts)
}

// ListReplicaSets lists the replica sets of namespace ("" is every
// namespace).
func (c *Client) ListReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) (*appsv1.ReplicaSetList, error) {
	l := &appsv1.ReplicaSetList{}
	return l, list(ctx, c.apps, "replicasets", namespace, opts, l)
}

// ListJobs lists the jobs of namespace ("" is every namespace).
func (c *Client) ListJobs(ctx context.Context, namespace string, opts metav1.ListOptions) (*batchv1.JobList, error) {
	l := &batchv1.JobList{}
	return l, list(ctx, c.batch, "jobs", namespace, opts, l)
}

// ListServiceAccounts lists the service accounts of namespace ("" is every
// namespace).
func (c *Client) ListServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.ServiceAccountList, error) {
	l := &corev1.ServiceAccountList{}
	return l, list(ctx, c.core, "serviceaccounts", namespace, opts, l)
}

// WatchServiceAccounts watches the service accounts of namespace ("" is
// every namespace).
func (c *Client) WatchServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	return watchResource(ctx, c.core, "serviceaccounts", namespace, opts)
}

// ListSecrets lists the secrets of namespace ("" is every namespace).
func (c *Client) ListSecrets(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.SecretList, error) {
	l := &corev1.SecretList{}
	return l, list(ctx, c.core, "secrets", namespace, opts, l)
}

// WatchSecrets watches the secrets of namespace ("" is every namespace).
func (c *Client) WatchSecrets(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	return watchResource(ctx, c.core, "secrets", namespace, opts)
}

// GetLease reads a coordination.k8s.io/v1 Lease (leader election).
func (c *Client) GetLease(ctx context.Context, namespace, name string) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{}
	err := c.coordination.Get().Namespace(namespace).Resource("leases").Name(name).Do(ctx).Into(l)
	return l, WrapError("get", "lease "+name, namespace, metav1.ListOptions{}, err)
}

// CreateLease creates a Lease.
func (c *Client) CreateLease(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	out := &coordinationv1.Lease{}
	err := c.coordination.Post().Namespace(l.Namespace).Resource("leases").Body(l).Do(ctx).Into(out)
	return out, WrapError("create", "lease "+l.Name, l.Namespace, metav1.ListOptions{}, err)
}

// UpdateLease replaces a Lease; its resourceVersion makes it conditional
// (a Conflict error when another replica wrote first).
func (c *Client) UpdateLease(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	out := &coordinationv1.Lease{}
	err := c.coordination.Put().Namespace(l.Namespace).Resource("leases").Name(l.Name).Body(l).Do(ctx).Into(out)
	return out, WrapError("update", "lease "+l.Name, l.Namespace, metav1.ListOptions{}, err)
}

// ListConfigMaps lists the config maps of namespace.
func (c *Client) ListConfigMaps(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.ConfigMapList, error) {
	l := &corev1.ConfigMapList{}
	return l, list(ctx, c.core, "configmaps", namespace, opts, l)
}

// GetConfigMap reads a config map (the stale-token observations an audit
// sink publishes).
func (c *Client) GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := c.core.Get().Namespace(namespace).Resource("configmaps").Name(name).Do(ctx).Into(out)
	return out, WrapError("get", "configmap "+name, namespace, metav1.ListOptions{}, err)
}

// CreateConfigMap creates a config map.
func (c *Client) CreateConfigMap(ctx context.Context, cm *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := c.core.Post().Namespace(cm.Namespace).Resource("configmaps").Body(cm).Do(ctx).Into(out)
	return out, WrapError("create", "configmap "+cm.Name, cm.Namespace, metav1.ListOptions{}, err)
}

// UpdateConfigMap replaces a config map; its resourceVersion, when set,
// makes it conditional.
func (c *Client) UpdateConfigMap(ctx context.Context, cm *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := c.core.Put().Namespace(cm.Namespace).Resource("configmaps").Name(cm.Name).Body(cm).Do(ctx).Into(out)
	return out, WrapError("update", "configmap "+cm.Name, cm.Namespace, metav1.ListOptions{}, err)
}

// DeleteConfigMap deletes a config map, only if its resourceVersion is
// still resourceVersion (when not empty).
func (c *Client) DeleteConfigMap(ctx context.Context, namespace, name, resourceVersion string) error {
	opts := &metav1.DeleteOptions{}
	if resourceVersion != "" {
		opts.Preconditions = &metav1.Preconditions{ResourceVersion: &resourceVersion}
	}
	err := c.core.Delete().Namespace(namespace).Resource("configmaps").Name(name).Body(opts).Do(ctx).Error()
	return WrapError("delete", "configmap "+name, namespace, metav1.ListOptions{}, err)
}

// ServerVersion asks the API server for its version (GET /version).
func (c *Client) ServerVersion(ctx context.Context) (*version.Info, error) {
	body, err := c.core.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("cannot read the version of the API server %s: %w", c.host, err)
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("cannot read the version of the API server %s: its /version answer is not a version document: %w", c.host, err)
	}
	if info.GitVersion == "" {
		return nil, fmt.Errorf("cannot read the version of the API server %s: its /version answer has no gitVersion", c.host)
	}
	return &info, nil
}

func list(ctx context.Context, rc rest.Interface, resource, namespace string, opts metav1.ListOptions, into runtime.Object) error {
	err := rc.Get().
		NamespaceIfScoped(namespace, namespace != "").
		Resource(resource).
		VersionedParams(&opts, parameterCodec).
		Timeout(timeout(opts)).
		Do(ctx).
		Into(into)
	return WrapError("list", resource, namespace, opts, err)
}

func watchResource(ctx context.Context, rc rest.Interface, resource, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	w, err := rc.Get().
		NamespaceIfScoped(namespace, namespace != "").
		Resource(resource).
		VersionedParams(&opts, parameterCodec).
		Timeout(timeout(opts)).
		Watch(ctx)
	if err != nil {
		return nil, WrapError("watch", resource, namespace, opts, err)
	}
	return w, nil
}

func timeout(opts metav1.ListOptions) time.Duration {
	if opts.TimeoutSeconds != nil {
		return time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	return 0
}

// WrapError names a failed request: `cannot list secrets with field
// selector "type=kubernetes.io/dockercfg" in all namespaces: <err>`. It
// returns nil for a nil err, and keeps err reachable (errors.Is/As, so
// apierrors.IsForbidden and the like still answer). Clients other than
// Client (test adapters) use it to fail alike.
func WrapError(verb, resource, namespace string, opts metav1.ListOptions, err error) error {
	if err == nil {
		return nil
	}
	what := resource
	if opts.LabelSelector != "" {
		what += fmt.Sprintf(" with label selector %q", opts.LabelSelector)
	}
	if opts.FieldSelector != "" {
		if opts.LabelSelector != "" {
			what += " and"
		} else {
			what += " with"
		}
		what += fmt.Sprintf(" field selector %q", opts.FieldSelector)
	}
	where := "in all namespaces"
	if namespace != "" {
		where = fmt.Sprintf("in namespace %q", namespace)
	}
	return fmt.Errorf("cannot %s %s %s: %w", verb, what, where, err)
}
