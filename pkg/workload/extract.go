package workload

import (
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tokenguard/tokenguard/pkg/awsid"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Workload is one object that runs pods, reduced to its pod spec.
type Workload struct {
	APIVersion string
	Kind       string
	// Namespace is metadata.namespace; empty means not set (the caller
	// decides the default).
	Namespace string
	Name      string
	// Pod is the pod spec of a Pod, or the pod template spec of a
	// controller (for a CronJob: spec.jobTemplate.spec.template.spec).
	Pod policy.PodSpec
	// Source is the file path, "-" for stdin, or "" when not from a file.
	Source string
	// Document is the 1-based index of the document in Source (see Decode).
	Document int
	// Item is the 1-based index inside a List, 0 when not in a List.
	Item int
	// Line is the 1-based line of Source where the object starts, and
	// ImageLines the line of each container's image (by container name);
	// set only when the Visitor asks for Lines (0 and nil otherwise). A
	// line that cannot be found falls back to the document's first line
	// (Line) or is missing (ImageLines).
	Line       int
	ImageLines map[string]int
}

// PodSpecPath is the field path of the workload's pod spec, e.g. "spec" for
// a Pod and "spec.template.spec" for a Deployment.
func (w *Workload) PodSpecPath() string { return podSpecPath(w.Kind) }

// podSpecPath is the path for a kind of the table, and spec.template.spec
// for any other (a custom resource with a pod template, see
// podTemplateCRD).
func podSpecPath(kind string) string {
	if k, ok := KindNamed(kind); ok {
		return k.Spec.Path()
	}
	return InTemplate.Path()
}

// classify tells whether apiVersion/kind is a workload: isWorkload is true
// when the group and kind are a workload's (Kind.Group or the group of one
// of its OlderAPIVersions), and supported is true when the version is one
// tokenguard reads too.
func classify(apiVersion, kind string) (isWorkload, supported bool) {
	for i := range kinds {
		if kinds[i].Kind == kind {
			return kinds[i].reads(apiVersion)
		}
	}
	return false, false
}

// newV1Object returns an empty object of a workload kind's served version,
// or nil.
func newV1Object(kind string) runtime.Object {
	if k, ok := KindNamed(kind); ok {
		return k.newObject()
	}
	return nil
}

// FromObject extracts the workload from a typed object: a core/v1 Pod or
// ReplicationController, an apps/v1 Deployment, StatefulSet, DaemonSet or
// ReplicaSet, a batch/v1 Job or CronJob, or their apps/v1beta1,
// apps/v1beta2, extensions/v1beta1 and batch/v1beta1 forms. An
// *unstructured.Unstructured of one of those kinds (batch/v2alpha1 CronJob
// too) is converted through the v1 type. ok is false for any other object.
//
// APIVersion and Kind come from the object's TypeMeta, or from its Go type
// when TypeMeta is empty (as after decoding into a typed object). The
// workload is not validated: a template without containers is returned as
// it is. The error reports an Unstructured object that does not convert. A
// nil object, or a nil pointer, is no workload.
func FromObject(obj runtime.Object) (Workload, bool, error) {
	var (
		w    Workload
		meta *metav1.ObjectMeta
		tm   *metav1.TypeMeta
		spec *corev1.PodSpec
		gv   string
		// podMeta is the pod's metadata, or the template's.
		podMeta *metav1.ObjectMeta
	)
	if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && v.IsNil() {
		return Workload{}, false, nil
	}
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		return fromUnstructured(o)
	case *corev1.Pod:
		tm, meta, spec, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec, "v1", "Pod"
		podMeta = &o.ObjectMeta
	case *corev1.ReplicationController:
		tm, meta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, "v1", "ReplicationController"
		if o.Spec.Template != nil {
			spec, podMeta = &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta
		}
	case *appsv1.Deployment:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1", "Deployment"
	case *appsv1.StatefulSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1", "StatefulSet"
	case *appsv1.DaemonSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1", "DaemonSet"
	case *appsv1.ReplicaSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1", "ReplicaSet"
	case *batchv1.Job:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "batch/v1", "Job"
	case *batchv1.CronJob:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec, &o.Spec.JobTemplate.Spec.Template.ObjectMeta, "batch/v1", "CronJob"
	case *appsv1beta1.Deployment:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1beta1", "Deployment"
	case *appsv1beta1.StatefulSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1beta1", "StatefulSet"
	case *appsv1beta2.Deployment:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1beta2", "Deployment"
	case *appsv1beta2.StatefulSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1beta2", "StatefulSet"
	case *appsv1beta2.DaemonSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1beta2", "DaemonSet"
	case *appsv1beta2.ReplicaSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "apps/v1beta2", "ReplicaSet"
	case *extensionsv1beta1.Deployment:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "extensions/v1beta1", "Deployment"
	case *extensionsv1beta1.DaemonSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "extensions/v1beta1", "DaemonSet"
	case *extensionsv1beta1.ReplicaSet:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template.Spec, &o.Spec.Template.ObjectMeta, "extensions/v1beta1", "ReplicaSet"
	case *batchv1beta1.CronJob:
		tm, meta, spec, podMeta, gv, w.Kind = &o.TypeMeta, &o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec, &o.Spec.JobTemplate.Spec.Template.ObjectMeta, "batch/v1beta1", "CronJob"
	default:
		return Workload{}, false, nil
	}
	w.APIVersion = gv
	if tm.APIVersion != "" {
		w.APIVersion = tm.APIVersion
	}
	w.Namespace, w.Name = meta.Namespace, meta.Name
	w.Pod = PodSpecFromCore(spec)
	if podMeta != nil {
		w.Pod.AWS = podAWSContext(w.Kind, podMeta.Annotations[awsid.AnnotationTokenExpiration], podMeta.Annotations[awsid.AnnotationSkipContainers])
	}
	return w, true, nil
}

// podAWSContext is what a pod's own annotations say of its AWS
// credentials: the IRSA token's lifetime, the containers IRSA skips.
func podAWSContext(kind, tokenExpiration, skipContainers string) policy.AWSContext {
	c := policy.AWSContext{SkipContainers: skipContainers}
	if tokenExpiration != "" {
		c.TokenExpiration, c.TokenExpirationFrom = tokenExpiration, "pod template"
		if kind == "Pod" {
			c.TokenExpirationFrom = "pod"
		}
	}
	return c
}

// fromUnstructured converts a workload kind through its v1 type (all
// supported versions share the v1 pod template layout).
func fromUnstructured(u *unstructured.Unstructured) (Workload, bool, error) {
	apiVersion, kind := u.GetAPIVersion(), u.GetKind()
	isWorkload, supported := classify(apiVersion, kind)
	if !isWorkload {
		return Workload{}, false, nil
	}
	if !supported {
		return Workload{}, true, unsupportedVersion(apiVersion, kind)
	}
	obj := newV1Object(kind)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return Workload{}, true, fmt.Errorf("%s %s: %w", kind, u.GetName(), err)
	}
	w, _, err := FromObject(obj)
	w.APIVersion = apiVersion
	return w, true, err
}

func unsupportedVersion(apiVersion, kind string) error {
	return fmt.Errorf("%w %q for %s", ErrUnsupportedVersion, apiVersion, kind)
}
