// Package crds holds the CustomResourceDefinitions of tokenguard's own API
// (tokenguard.io), embedded so that code and tests install or check the
// very files `kubectl apply -k deploy/crds` applies.
package crds

import _ "embed"

// ImageEvidenceYAML is tokenguard.io_imageevidences.yaml: the
// CustomResourceDefinition of ImageEvidence (tokenguard.io/v1alpha1).
//
//go:embed tokenguard.io_imageevidences.yaml
var ImageEvidenceYAML []byte
