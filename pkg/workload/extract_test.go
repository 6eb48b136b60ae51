package workload

import (
	"errors"
	"reflect"
	"testing"

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
)

func TestFromObject(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "n", Namespace: "ns"}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i:1"}}}
	tmpl := corev1.PodTemplateSpec{Spec: spec}
	tests := []struct {
		name string
		obj  runtime.Object
		ok   bool
		want string // describe(w)
		path string // w.PodSpecPath()
	}{
		{name: "Pod", obj: &corev1.Pod{ObjectMeta: meta, Spec: spec}, ok: true,
			want: "v1 Pod ns/n #0.0 [regular c=i:1]", path: "spec"},
		{name: "ReplicationController", obj: &corev1.ReplicationController{ObjectMeta: meta, Spec: corev1.ReplicationControllerSpec{Template: &tmpl}}, ok: true,
			want: "v1 ReplicationController ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "ReplicationController without template", obj: &corev1.ReplicationController{ObjectMeta: meta}, ok: true,
			want: "v1 ReplicationController ns/n #0.0 []", path: "spec.template.spec"},
		{name: "Deployment", obj: &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: tmpl}}, ok: true,
			want: "apps/v1 Deployment ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "StatefulSet", obj: &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Template: tmpl}}, ok: true,
			want: "apps/v1 StatefulSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "DaemonSet", obj: &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: tmpl}}, ok: true,
			want: "apps/v1 DaemonSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "ReplicaSet", obj: &appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Template: tmpl}}, ok: true,
			want: "apps/v1 ReplicaSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "Job", obj: &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: tmpl}}, ok: true,
			want: "batch/v1 Job ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "CronJob", obj: &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, ok: true,
			want: "batch/v1 CronJob ns/n #0.0 [regular c=i:1]", path: "spec.jobTemplate.spec.template.spec"},
		{name: "TypeMeta wins over the Go type's default version",
			obj: &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: appsv1.DeploymentSpec{Template: tmpl}}, ok: true,
			want: "apps/v1 Deployment /n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "apps/v1beta1 Deployment", obj: &appsv1beta1.Deployment{ObjectMeta: meta, Spec: appsv1beta1.DeploymentSpec{Template: tmpl}}, ok: true,
			want: "apps/v1beta1 Deployment ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "apps/v1beta1 StatefulSet", obj: &appsv1beta1.StatefulSet{ObjectMeta: meta, Spec: appsv1beta1.StatefulSetSpec{Template: tmpl}}, ok: true,
			want: "apps/v1beta1 StatefulSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "apps/v1beta2 Deployment", obj: &appsv1beta2.Deployment{ObjectMeta: meta, Spec: appsv1beta2.DeploymentSpec{Template: tmpl}}, ok: true,
			want: "apps/v1beta2 Deployment ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "apps/v1beta2 StatefulSet", obj: &appsv1beta2.StatefulSet{ObjectMeta: meta, Spec: appsv1beta2.StatefulSetSpec{Template: tmpl}}, ok: true,
			want: "apps/v1beta2 StatefulSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "apps/v1beta2 DaemonSet", obj: &appsv1beta2.DaemonSet{ObjectMeta: meta, Spec: appsv1beta2.DaemonSetSpec{Template: tmpl}}, ok: true,
			want: "apps/v1beta2 DaemonSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "apps/v1beta2 ReplicaSet", obj: &appsv1beta2.ReplicaSet{ObjectMeta: meta, Spec: appsv1beta2.ReplicaSetSpec{Template: tmpl}}, ok: true,
			want: "apps/v1beta2 ReplicaSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "extensions/v1beta1 Deployment", obj: &extensionsv1beta1.Deployment{ObjectMeta: meta, Spec: extensionsv1beta1.DeploymentSpec{Template: tmpl}}, ok: true,
			want: "extensions/v1beta1 Deployment ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "extensions/v1beta1 DaemonSet", obj: &extensionsv1beta1.DaemonSet{ObjectMeta: meta, Spec: extensionsv1beta1.DaemonSetSpec{Template: tmpl}}, ok: true,
			want: "extensions/v1beta1 DaemonSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "extensions/v1beta1 ReplicaSet", obj: &extensionsv1beta1.ReplicaSet{ObjectMeta: meta, Spec: extensionsv1beta1.ReplicaSetSpec{Template: tmpl}}, ok: true,
			want: "extensions/v1beta1 ReplicaSet ns/n #0.0 [regular c=i:1]", path: "spec.template.spec"},
		{name: "batch/v1beta1 CronJob", obj: &batchv1beta1.CronJob{ObjectMeta: meta, Spec: batchv1beta1.CronJobSpec{JobTemplate: batchv1beta1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, ok: true,
			want: "batch/v1beta1 CronJob ns/n #0.0 [regular c=i:1]", path: "spec.jobTemplate.spec.template.spec"},
		{name: "ConfigMap is no workload", obj: &corev1.ConfigMap{ObjectMeta: meta}, ok: false},
		{name: "nil is no workload", obj: nil, ok: false},
		{name: "nil pointer is no workload", obj: (*appsv1.Deployment)(nil), ok: false},
		{name: "nil Unstructured is no workload", obj: (*unstructured.Unstructured)(nil), ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok, err := FromObject(tt.obj)
			if err != nil || ok != tt.ok {
				t.Fatalf("FromObject = ok %v, err %v; want ok %v, no error", ok, err, tt.ok)
			}
			if !ok {
				if !reflect.DeepEqual(w, Workload{}) {
					t.Errorf("non-workload returned %+v", w)
				}
				return
			}
			if got := describe(w); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if got := w.PodSpecPath(); got != tt.path {
				t.Errorf("PodSpecPath() = %q, want %q", got, tt.path)
			}
		})
	}
}

func TestFromObjectUnstructured(t *testing.T) {
	tmpl := map[string]any{"spec": map[string]any{
		"automountServiceAccountToken": false,
		"containers":                   []any{map[string]any{"name": "c", "image": "i:1"}},
	}}
	tests := []struct {
		name    string
		obj     map[string]any
		ok      bool
		want    string
		errIs   error
		errText string
	}{
		{
			name: "apps/v1 Deployment",
			obj: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "d", "namespace": "ns"},
				"spec":     map[string]any{"template": tmpl, "futureField": 1}},
			ok: true, want: "apps/v1 Deployment ns/d #0.0 [regular c=i:1]",
		},
		{
			name: "batch/v2alpha1 CronJob read through v1",
			obj: map[string]any{"apiVersion": "batch/v2alpha1", "kind": "CronJob",
				"metadata": map[string]any{"name": "cj"},
				"spec":     map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": tmpl}}}},
			ok: true, want: "batch/v2alpha1 CronJob /cj #0.0 [regular c=i:1]",
		},
		{
			name: "CRD named Deployment is no workload",
			obj:  map[string]any{"apiVersion": "example.com/v1", "kind": "Deployment"},
		},
		{
			name:    "unsupported version",
			obj:     map[string]any{"apiVersion": "apps/v9", "kind": "Deployment"},
			ok:      true,
			errIs:   ErrUnsupportedVersion,
			errText: `unsupported apiVersion "apps/v9" for Deployment`,
		},
		{
			name: "type mismatch",
			obj: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"},
				"spec": map[string]any{"containers": "x"}},
			ok: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok, err := FromObject(&unstructured.Unstructured{Object: tt.obj})
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if tt.want == "" {
				if ok && err == nil {
					t.Fatalf("want an error, got workload %s", describe(w))
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Errorf("err = %v, want %v", err, tt.errIs)
				}
				if tt.errText != "" && err.Error() != tt.errText {
					t.Errorf("err = %q, want %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(w); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if a := w.Pod.AutomountServiceAccountToken; a == nil || *a {
				t.Errorf("AutomountServiceAccountToken = %v, want false", a)
			}
		})
	}
}
