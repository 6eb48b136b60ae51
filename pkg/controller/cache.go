package controller

import (
	"context"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/tokenguard/tokenguard/pkg/awsid"
	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Client lists and watches what the controller reads: *kube.Client, or in
// tests a clientset through kubetest.Clientset.
type Client interface {
	ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error)
	WatchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
	ListReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) (*appsv1.ReplicaSetList, error)
	WatchReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
	ListJobs(ctx context.Context, namespace string, opts metav1.ListOptions) (*batchv1.JobList, error)
	WatchJobs(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
	ListServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.ServiceAccountList, error)
	WatchServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
}

// Cache keeps the cluster's Pods, ReplicaSets and Jobs in informers,
// stripped to what judging a workload reads, and serves them as the lists
// clusteraudit.Collect asks for: the controller groups and judges from
// memory, and the API server sees one LIST and a WATCH per resource.
//
// What is kept of a Pod: name, namespace, UID, owner references, the IRSA
// annotations (eks.amazonaws.com/*), and of its spec what
// workload.PodSpecFromCore reads (service account, automount, pull
// secrets, volumes, containers' names, images, mounts and AWS_*
// environment). Status, managed fields, other annotations, labels,
// resources, probes, commands and the rest are dropped before they are
// stored, so that 10,000 pods stay within the controller's memory budget.
// Of ReplicaSets and Jobs only the metadata that links owners is kept; of
// ServiceAccounts their name and eks.amazonaws.com/* annotations (IRSA).
type Cache struct {
	// Informers: Start, WaitForSync, Shutdown.
	kube.Informers
	pods     cache.SharedIndexInformer
	rs, jobs cache.SharedIndexInformer
	sas      cache.SharedIndexInformer
}

// NewCache returns a cache reading through client; nothing is sent before
// Start. OnPod, when set, is called with each pod added, updated or
// deleted (for the work queue).
func NewCache(client Client, resync time.Duration, onPod func(namespace, name string)) *Cache {
	c := &Cache{}
	c.pods = c.add(client, &corev1.Pod{}, "pods", resync, kube.ListWatch(client.ListPods, client.WatchPods, ""), stripPod)
	c.rs = c.add(client, &appsv1.ReplicaSet{}, "replicasets", resync, kube.ListWatch(client.ListReplicaSets, client.WatchReplicaSets, ""), stripToOwners)
	c.jobs = c.add(client, &batchv1.Job{}, "jobs", resync, kube.ListWatch(client.ListJobs, client.WatchJobs, ""), stripToOwners)
	c.sas = c.add(client, &corev1.ServiceAccount{}, "serviceaccounts", resync, kube.ListWatch(client.ListServiceAccounts, client.WatchServiceAccounts, ""), stripServiceAccount)
	if onPod != nil {
		notify := func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				onPod(p.Namespace, p.Name)
			}
		}
		_, _ = c.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    notify,
			UpdateFunc: func(_, obj any) { notify(obj) },
			DeleteFunc: notify,
		})
	}
	return c
}

func (c *Cache) add(client Client, example runtime.Object, description string, resync time.Duration, lw *cache.ListWatch, strip func(any) (any, error)) cache.SharedIndexInformer {
	inf := cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client), example,
		cache.SharedIndexInformerOptions{ResyncPeriod: resync, ObjectDescription: description,
			Indexers: cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}})
	_ = inf.SetTransform(strip) // cannot fail before Run
	c.Add(inf)
	return inf
}

// listOf copies the cached objects of namespace ("" is every namespace)
// of an informer holding *T, into a slice sized up front.
func listOf[T any](inf cache.SharedIndexInformer, namespace string) []T {
	objs := list(inf, namespace)
	out := make([]T, 0, len(objs))
	for _, obj := range objs {
		out = append(out, *obj.(*T))
	}
	return out
}

// ListPods serves clusteraudit.Client from the cache: every pod of
// namespace ("" is all), in one page.
func (c *Cache) ListPods(_ context.Context, namespace string, _ metav1.ListOptions) (*corev1.PodList, error) {
	return &corev1.PodList{Items: listOf[corev1.Pod](c.pods, namespace)}, nil
}

// ListReplicaSets serves clusteraudit.Client from the cache.
func (c *Cache) ListReplicaSets(_ context.Context, namespace string, _ metav1.ListOptions) (*appsv1.ReplicaSetList, error) {
	return &appsv1.ReplicaSetList{Items: listOf[appsv1.ReplicaSet](c.rs, namespace)}, nil
}

// ListJobs serves clusteraudit.Client from the cache.
func (c *Cache) ListJobs(_ context.Context, namespace string, _ metav1.ListOptions) (*batchv1.JobList, error) {
	return &batchv1.JobList{Items: listOf[batchv1.Job](c.jobs, namespace)}, nil
}

// AWSContext says which AWS credentials the pods of a service account
// ("" is "default") get, from its annotations (IRSA's
// eks.amazonaws.com/role-arn): workloads are judged as their pods will run
// once restarted, as audit judges them.
func (c *Cache) AWSContext(namespace, serviceAccount string) policy.AWSContext {
	if serviceAccount == "" {
		serviceAccount = "default"
	}
	obj, ok, _ := c.sas.GetIndexer().GetByKey(namespace + "/" + serviceAccount)
	if !ok {
		return policy.AWSContext{}
	}
	sa := obj.(*corev1.ServiceAccount)
	if len(sa.Annotations) == 0 {
		return policy.AWSContext{}
	}
	return awsid.FromServiceAccount(serviceAccount, sa.Annotations)
}

func list(inf cache.SharedIndexInformer, namespace string) []any {
	if namespace == "" {
		return inf.GetStore().List()
	}
	objs, _ := inf.GetIndexer().ByIndex(cache.NamespaceIndex, namespace)
	return objs
}

// stripPod keeps of a pod what judging its workload reads.
func stripPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			OwnerReferences: p.OwnerReferences, Annotations: eksAnnotations(p.Annotations),
			DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{
			ServiceAccountName:           p.Spec.ServiceAccountName,
			DeprecatedServiceAccount:     p.Spec.DeprecatedServiceAccount,
			AutomountServiceAccountToken: p.Spec.AutomountServiceAccountToken,
			ImagePullSecrets:             p.Spec.ImagePullSecrets,
			InitContainers:               stripContainers(p.Spec.InitContainers),
			Containers:                   stripContainers(p.Spec.Containers),
			Volumes:                      stripVolumes(p.Spec.Volumes),
		},
	}
	for _, e := range p.Spec.EphemeralContainers {
		c := stripContainers([]corev1.Container{corev1.Container(e.EphemeralContainerCommon)})[0]
		out.Spec.EphemeralContainers = append(out.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c)})
	}
	return out, nil
}

// stripContainers keeps names, images, mounts and the AWS_* environment.
func stripContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i := range cs {
		c := &cs[i]
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, VolumeMounts: c.VolumeMounts}
		for _, e := range c.Env {
			if strings.HasPrefix(e.Name, "AWS_") {
				out[i].Env = append(out[i].Env, corev1.EnvVar{Name: e.Name, Value: e.Value})
			}
		}
	}
	return out
}

// stripVolumes keeps the volumes token rules read: projected service
// account tokens and secrets.
func stripVolumes(vs []corev1.Volume) []corev1.Volume {
	var out []corev1.Volume
	for _, v := range vs {
		switch {
		case v.Secret != nil:
			out = append(out, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: v.Secret.SecretName}}})
		case v.Projected != nil:
			var src []corev1.VolumeProjection
			for _, s := range v.Projected.Sources {
				if s.ServiceAccountToken != nil {
					src = append(src, corev1.VolumeProjection{ServiceAccountToken: s.ServiceAccountToken})
				}
			}
			if len(src) > 0 {
				out = append(out, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: src}}})
			}
		}
	}
	return out
}

// eksAnnotations keeps the eks.amazonaws.com/* annotations (the IRSA
// webhook's), nil when there are none.
func eksAnnotations(a map[string]string) map[string]string {
	var out map[string]string
	for k, v := range a {
		if strings.HasPrefix(k, "eks.amazonaws.com/") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// stripServiceAccount keeps a service account's name and its IRSA
// annotations.
func stripServiceAccount(obj any) (any, error) {
	sa, ok := obj.(*corev1.ServiceAccount)
	if !ok {
		return obj, nil
	}
	return &corev1.ServiceAccount{TypeMeta: sa.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: sa.Name, Namespace: sa.Namespace,
		UID: sa.UID, ResourceVersion: sa.ResourceVersion, Annotations: eksAnnotations(sa.Annotations)}}, nil
}

// stripToOwners keeps of a ReplicaSet or Job the metadata that links pods
// to their workload.
func stripToOwners(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		return &appsv1.ReplicaSet{TypeMeta: o.TypeMeta, ObjectMeta: ownerMeta(&o.ObjectMeta)}, nil
	case *batchv1.Job:
		return &batchv1.Job{TypeMeta: o.TypeMeta, ObjectMeta: ownerMeta(&o.ObjectMeta)}, nil
	}
	return obj, nil
}

func ownerMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion, OwnerReferences: m.OwnerReferences}
}
