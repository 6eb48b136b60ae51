package workload

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Kind is one workload kind tokenguard judges: a kind with a pod spec or a
// pod template. The table of them, kinds, is the one list of workload kinds:
// the fast decoder, the manifest reader, admission's choice of what to
// judge, the cluster audit's restart commands and the webhook
// configuration's rules (checked by deploy's tests) all read it.
type Kind struct {
	// Group is the API group ("" for core), Version the version the API
	// server serves and the webhook configuration names ("v1"); requests
	// for other versions reach the webhook converted to it (matchPolicy:
	// Equivalent).
	Group, Version string
	Kind           string
	// Resource is the plural resource name ("deployments"), as webhook
	// rules and API paths spell it.
	Resource string
	// OlderAPIVersions are the older apiVersions of the kind that manifests
	// may still use ("extensions/v1beta1"). They hold the pod template at
	// the same path as Version, so the manifest reader decodes them into
	// Version's type.
	OlderAPIVersions []string
	// Spec says where the pod spec is.
	Spec SpecLocation
	// JudgedOnUpdate is true when an UPDATE is judged (if PolicyInputsChanged
	// says so), false when only CREATE is: a Pod's images change only by
	// recreation or ephemeral containers.
	JudgedOnUpdate bool
	// Restart is how the kind's pods are replaced to get fresh tokens.
	Restart Restart

	newObject func() runtime.Object // an empty object of Version
}

// SpecLocation says where a kind holds its pod spec.
type SpecLocation uint8

const (
	// InSpec: the object's spec is the pod spec (Pod).
	InSpec SpecLocation = iota
	// InTemplate: spec.template.spec (Deployment, Job, ...).
	InTemplate
	// InJobTemplate: spec.jobTemplate.spec.template.spec (CronJob).
	InJobTemplate
)

// Path is the field path of the pod spec in the object.
func (l SpecLocation) Path() string {
	switch l {
	case InSpec:
		return "spec"
	case InJobTemplate:
		return "spec.jobTemplate.spec.template.spec"
	default:
		return "spec.template.spec"
	}
}

// Restart is how a kind's pods are replaced so that they get fresh tokens.
type Restart uint8

const (
	// RestartRecreate: the pods must be deleted and created again by
	// whoever made them (Pod, Job, CronJob).
	RestartRecreate Restart = iota
	// RestartRollout: `kubectl rollout restart` replaces them.
	RestartRollout
	// RestartDeletePods: deleting the pods is enough; the controller
	// recreates them from its template.
	RestartDeletePods
)

// kinds is the table. Its order is the order of Kinds.
var kinds = []Kind{
	{Group: "", Version: "v1", Kind: "Pod", Resource: "pods", Spec: InSpec,
		Restart: RestartRecreate, newObject: func() runtime.Object { return &corev1.Pod{} }},
	{Group: "", Version: "v1", Kind: "ReplicationController", Resource: "replicationcontrollers", Spec: InTemplate,
		JudgedOnUpdate: true, Restart: RestartDeletePods, newObject: func() runtime.Object { return &corev1.ReplicationController{} }},
	{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", Spec: InTemplate,
		OlderAPIVersions: []string{"apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"},
		JudgedOnUpdate:   true, Restart: RestartRollout, newObject: func() runtime.Object { return &appsv1.Deployment{} }},
	{Group: "apps", Version: "v1", Kind: "StatefulSet", Resource: "statefulsets", Spec: InTemplate,
		OlderAPIVersions: []string{"apps/v1beta1", "apps/v1beta2"},
		JudgedOnUpdate:   true, Restart: RestartRollout, newObject: func() runtime.Object { return &appsv1.StatefulSet{} }},
	{Group: "apps", Version: "v1", Kind: "DaemonSet", Resource: "daemonsets", Spec: InTemplate,
		OlderAPIVersions: []string{"apps/v1beta2", "extensions/v1beta1"},
		JudgedOnUpdate:   true, Restart: RestartRollout, newObject: func() runtime.Object { return &appsv1.DaemonSet{} }},
	{Group: "apps", Version: "v1", Kind: "ReplicaSet", Resource: "replicasets", Spec: InTemplate,
		OlderAPIVersions: []string{"apps/v1beta2", "extensions/v1beta1"},
		JudgedOnUpdate:   true, Restart: RestartDeletePods, newObject: func() runtime.Object { return &appsv1.ReplicaSet{} }},
	{Group: "batch", Version: "v1", Kind: "Job", Resource: "jobs", Spec: InTemplate,
		JudgedOnUpdate: true, Restart: RestartRecreate, newObject: func() runtime.Object { return &batchv1.Job{} }},
	{Group: "batch", Version: "v1", Kind: "CronJob", Resource: "cronjobs", Spec: InJobTemplate,
		OlderAPIVersions: []string{"batch/v1beta1", "batch/v2alpha1"},
		JudgedOnUpdate:   true, Restart: RestartRecreate, newObject: func() runtime.Object { return &batchv1.CronJob{} }},
}

// Kinds returns the workload kinds tokenguard judges, in a fixed order
// (core, apps, batch). The slice is a copy; its elements share the table's
// OlderAPIVersions, which must not be modified.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// LookupKind returns the workload kind of an API group and kind as the API
// server names them in an AdmissionReview (request.kind). ok is false for
// kinds that are not workloads, and for a workload kind in a group other
// than its served one (extensions' Deployment arrives as apps').
func LookupKind(group, kind string) (k Kind, ok bool) {
	if p := lookupKind(group, kind); p != nil {
		return *p, true
	}
	return Kind{}, false
}

// KindNamed returns the workload kind named kind, whatever its group: the
// table names each kind once. For callers that know only the kind, such as
// a pod's owner reference reduced to its kind.
func KindNamed(kind string) (k Kind, ok bool) {
	for i := range kinds {
		if kinds[i].Kind == kind {
			return kinds[i], true
		}
	}
	return Kind{}, false
}

// IsWorkloadKind reports whether group and kind name a workload kind of the
// table: a kind with a pod spec or a pod template that tokenguard judges.
func IsWorkloadKind(group, kind string) bool { return lookupKind(group, kind) != nil }

func lookupKind(group, kind string) *Kind {
	for i := range kinds {
		if k := &kinds[i]; k.Kind == kind && k.Group == group {
			return k
		}
	}
	return nil
}

// APIVersion is the served apiVersion, "v1" or "apps/v1".
func (k *Kind) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// reads reports whether manifests of apiVersion are read as k: isKind
// when apiVersion's group is one of k's (current or older), supported when
// the version is one tokenguard reads too.
func (k *Kind) reads(apiVersion string) (isKind, supported bool) {
	if apiVersion == k.APIVersion() {
		return true, true
	}
	group, _ := splitAPIVersion(apiVersion)
	isKind = group == k.Group
	for _, v := range k.OlderAPIVersions {
		if v == apiVersion {
			return true, true
		}
		if g, _ := splitAPIVersion(v); g == group {
			isKind = true
		}
	}
	return isKind, false
}

// splitAPIVersion splits "apps/v1" into "apps", "v1" and "v1" into "", "v1".
func splitAPIVersion(apiVersion string) (group, version string) {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	return "", apiVersion
}
