// Package deploy holds tokenguard's kustomize manifests (base, overlays,
// components) and the tests that build them and assert their safety
// properties; the end-to-end suite applies them to a real API server.
package deploy
