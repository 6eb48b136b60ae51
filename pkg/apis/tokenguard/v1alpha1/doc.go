// Package v1alpha1 holds the Go types of tokenguard's custom resources,
// group tokenguard.io, version v1alpha1: ImageEvidence, the evidence found
// for one image digest, shared by every tokenguard process through the API
// server (CRD in deploy/crds/; conversion from and to policy.Evidence in
// pkg/imageevidence).
//
// +groupName=tokenguard.io
package v1alpha1
