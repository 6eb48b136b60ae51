package workload

import (
	"strings"
	"testing"
)

// TestPodTemplateCustomResources: custom resources that create pods from a
// spec.template (Argo Rollouts, OpenKruise, Knative) are read as
// workloads; custom resources without a pod template, or whose template is
// not a pod spec, and built-in groups are skipped as before.
func TestPodTemplateCustomResources(t *testing.T) {
	const manifests = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: prod}
spec:
  template:
    spec:
      serviceAccountName: web
      containers:
      - {name: app, image: registry.k8s.io/coredns/coredns:v1.8.3}
---
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: cs}
spec:
  template:
    spec:
      initContainers: [{name: init, image: busybox:1.36}]
      containers: [{name: cni, image: amazon-k8s-cni:v1.7.5}]
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello}
spec:
  template:
    spec:
      containers: [{image: ghcr.io/acme/hello:1.0}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: by-ref}
spec:
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}
---
apiVersion: example.com/v1
kind: Template
metadata: {name: not-a-pod}
spec:
  template:
    spec:
      containers: "three"
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {size: 3}
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: s}
spec:
  template:
    spec:
      containers: [{name: x, image: x:1}]
`
	res := Decode("crds.yaml", strings.NewReader(manifests))
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %+v", res.Errors)
	}
	var got []string
	for _, w := range res.Workloads {
		var images []string
		for _, c := range w.Pod.Containers {
			images = append(images, c.Name+"="+c.Image)
		}
		got = append(got, w.Kind+"/"+w.Namespace+"/"+w.Name+" "+w.Pod.ServiceAccountName+" "+strings.Join(images, ",")+" doc"+string(rune('0'+w.Document)))
	}
	want := []string{
		"Rollout/prod/web web app=registry.k8s.io/coredns/coredns:v1.8.3 doc1",
		"CloneSet//cs  init=busybox:1.36,cni=amazon-k8s-cni:v1.7.5 doc2",
		"Service//hello  =ghcr.io/acme/hello:1.0 doc3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("workloads:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Skipped["Rollout"] != 1 || res.Skipped["Template"] != 1 || res.Skipped["Widget"] != 1 || res.Skipped["VolumeSnapshot"] != 1 {
		t.Errorf("skipped = %v, want the Rollout by reference, Template, Widget and VolumeSnapshot", res.Skipped)
	}
}
