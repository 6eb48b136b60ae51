// Package workload extracts the pod specs of Kubernetes workloads from typed
// objects and from YAML or JSON manifests, reduced to what token rules read.
package workload
