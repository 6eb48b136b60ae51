// Package safety holds the safety properties of tokenguard's manifests
// (DESIGN.md; issues #6, #13 and #16) as checks over rendered objects, so
// that the kustomize overlays in deploy/ and the Helm chart in
// charts/tokenguard are held to the very same assertions.
package safety
