// Package imageevidence converts between policy.Evidence (what a registry
// lookup or a layer scan found for an image) and the ImageEvidence custom
// resource that shares it between tokenguard processes, and says when a
// stored one may be used and when it has outlived its TTL.
package imageevidence
