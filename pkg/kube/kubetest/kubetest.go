// Package kubetest adapts a clientset (k8s.io/client-go/kubernetes, in
// tests its fake) to the narrow client interfaces of tokenguard's packages,
// which pkg/kube implements for the binary. Tests only: importing it links
// the clientset and every API group.
package kubetest

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/watchlist"

	"github.com/tokenguard/tokenguard/pkg/kube"
)

// Clientset serves kube.Client's methods from a clientset; its errors are
// worded as kube.Client's (kube.WrapError).
type Clientset struct {
	CS kubernetes.Interface
}

// New adapts cs.
func New(cs kubernetes.Interface) *Clientset { return &Clientset{CS: cs} }

func (c *Clientset) ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	l, err := c.CS.CoreV1().Pods(namespace).List(ctx, opts)
	return l, kube.WrapError("list", "pods", namespace, opts, err)
}

func (c *Clientset) WatchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := c.CS.CoreV1().Pods(namespace).Watch(ctx, opts)
	return w, kube.WrapError("watch", "pods", namespace, opts, err)
}

func (c *Clientset) WatchReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := c.CS.AppsV1().ReplicaSets(namespace).Watch(ctx, opts)
	return w, kube.WrapError("watch", "replicasets", namespace, opts, err)
}

func (c *Clientset) WatchJobs(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := c.CS.BatchV1().Jobs(namespace).Watch(ctx, opts)
	return w, kube.WrapError("watch", "jobs", namespace, opts, err)
}

func (c *Clientset) ListReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) (*appsv1.ReplicaSetList, error) {
	l, err := c.CS.AppsV1().ReplicaSets(namespace).List(ctx, opts)
	return l, kube.WrapError("list", "replicasets", namespace, opts, err)
}

func (c *Clientset) ListJobs(ctx context.Context, namespace string, opts metav1.ListOptions) (*batchv1.JobList, error) {
	l, err := c.CS.BatchV1().Jobs(namespace).List(ctx, opts)
	return l, kube.WrapError("list", "jobs", namespace, opts, err)
}

func (c *Clientset) ListServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.ServiceAccountList, error) {
	l, err := c.CS.CoreV1().ServiceAccounts(namespace).List(ctx, opts)
	return l, kube.WrapError("list", "serviceaccounts", namespace, opts, err)
}

func (c *Clientset) WatchServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := c.CS.CoreV1().ServiceAccounts(namespace).Watch(ctx, opts)
	return w, kube.WrapError("watch", "serviceaccounts", namespace, opts, err)
}

func (c *Clientset) ListSecrets(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.SecretList, error) {
	l, err := c.CS.CoreV1().Secrets(namespace).List(ctx, opts)
	return l, kube.WrapError("list", "secrets", namespace, opts, err)
}

func (c *Clientset) WatchSecrets(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := c.CS.CoreV1().Secrets(namespace).Watch(ctx, opts)
	return w, kube.WrapError("watch", "secrets", namespace, opts, err)
}

func (c *Clientset) ServerVersion(ctx context.Context) (*version.Info, error) {
	return c.CS.Discovery().ServerVersion()
}

// IsWatchListSemanticsUnSupported passes on the clientset's answer (the
// fake's is true: its watches send no initial events), for informers built
// with cache.ToListWatcherWithWatchListSemantics.
func (c *Clientset) IsWatchListSemanticsUnSupported() bool {
	return watchlist.DoesClientNotSupportWatchListSemantics(c.CS)
}
