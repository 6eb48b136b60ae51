package workload

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
)

// podTemplateCRD reads a custom resource whose spec.template is a pod
// template: such resources create the pods (Argo Rollouts' Rollout,
// OpenKruise's CloneSet and Advanced StatefulSet/DaemonSet, Knative's
// Service …), so a manifest check that skipped them would miss what
// admission later judges Pod by Pod. Only custom groups (with a dot, not
// *.k8s.io) are read this way, and only when the template has containers;
// anything else, or a template that is not a pod spec, is not a workload.
func podTemplateCRD(apiVersion, kind string, data []byte) (Workload, bool) {
	group, _ := splitAPIVersion(apiVersion)
	if !strings.Contains(group, ".") || group == "k8s.io" || strings.HasSuffix(group, ".k8s.io") {
		return Workload{}, false
	}
	var obj struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			Template *struct {
				Spec *corev1.PodSpec `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &obj); err != nil {
		return Workload{}, false
	}
	t := obj.Spec.Template
	if t == nil || t.Spec == nil || len(t.Spec.Containers) == 0 {
		return Workload{}, false
	}
	return Workload{
		APIVersion: apiVersion, Kind: kind,
		Namespace: obj.Metadata.Namespace, Name: obj.Metadata.Name,
		Pod: PodSpecFromCore(t.Spec),
	}, true
}
